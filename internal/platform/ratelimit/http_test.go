package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		d    Decision
		want http.Header
	}{
		{
			name: "allowed",
			d:    allow(20, 7, 1500*time.Millisecond),
			want: http.Header{"Ratelimit-Limit": {"20"}, "Ratelimit-Remaining": {"7"}, "Ratelimit-Reset": {"2"}},
		},
		{
			name: "allowed, whole seconds stay",
			d:    allow(20, 19, 2*time.Second),
			want: http.Header{"Ratelimit-Limit": {"20"}, "Ratelimit-Remaining": {"19"}, "Ratelimit-Reset": {"2"}},
		},
		{
			name: "refused, Retry-After rounded up",
			d:    refuse(20, 0, 9500*time.Millisecond, 2001*time.Millisecond),
			want: http.Header{"Ratelimit-Limit": {"20"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"10"}, "Retry-After": {"3"}},
		},
		{
			name: "refused, Retry-After at least 1",
			d:    refuse(5, 0, 20*time.Millisecond, 20*time.Millisecond),
			want: http.Header{"Ratelimit-Limit": {"5"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"1"}, "Retry-After": {"1"}},
		},
		{
			name: "allowed, state unknown (fail open)",
			d:    Decision{Allowed: true, Limit: 5, Remaining: -1},
			want: http.Header{},
		},
		{
			name: "refused, state unknown (fail closed)",
			d:    Decision{Limit: 5, Remaining: -1, RetryAfter: time.Second},
			want: http.Header{"Retry-After": {"1"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			Headers(h, tc.d)
			if diff := cmp.Diff(tc.want, h); diff != "" {
				t.Errorf("Headers(%+v) (-want +got):\n%s", tc.d, diff)
			}
		})
	}
}

func TestRefuse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		d          Decision
		wantHeader http.Header
		wantBody   string
	}{
		{
			name: "refused",
			d:    refuse(20, 0, 9500*time.Millisecond, 2001*time.Millisecond),
			wantHeader: http.Header{
				"Content-Type":        {"application/json"},
				"Content-Length":      {"74"},
				"Ratelimit-Limit":     {"20"},
				"Ratelimit-Remaining": {"0"},
				"Ratelimit-Reset":     {"10"},
				"Retry-After":         {"3"},
			},
			wantBody: `{"code":"resource_exhausted","message":"rate limit exceeded, retry in 3s"}`,
		},
		{
			name: "fail closed, state unknown",
			d:    Decision{Limit: 5, Remaining: -1, RetryAfter: time.Second},
			wantHeader: http.Header{
				"Content-Type":   {"application/json"},
				"Content-Length": {"74"},
				"Retry-After":    {"1"},
			},
			wantBody: `{"code":"resource_exhausted","message":"rate limit exceeded, retry in 1s"}`,
		},
		{
			name: "an allowed decision is still refused, with Retry-After ≥ 1",
			d:    allow(20, 7, 1500*time.Millisecond),
			wantHeader: http.Header{
				"Content-Type":        {"application/json"},
				"Content-Length":      {"74"},
				"Ratelimit-Limit":     {"20"},
				"Ratelimit-Remaining": {"7"},
				"Ratelimit-Reset":     {"2"},
				"Retry-After":         {"1"},
			},
			wantBody: `{"code":"resource_exhausted","message":"rate limit exceeded, retry in 1s"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Refuse(rec, tc.d)
			if rec.Code != http.StatusTooManyRequests {
				t.Errorf("status = %d, want 429", rec.Code)
			}
			if diff := cmp.Diff(tc.wantHeader, rec.Header()); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBody, rec.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}
