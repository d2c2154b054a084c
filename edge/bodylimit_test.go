package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

// TestOverLimitBodiesGetOneAnswer sends bodies over the limit every way
// they can come, to a Connect service in-process and behind the proxy: each
// gets 413 invalid_argument (never 429 resource_exhausted, which clients
// retry), and a compressed body within the limit still reaches the service.
func TestOverLimitBodiesGetOneAnswer(t *testing.T) {
	t.Parallel()
	const max = serve.MaxRequestBytes // what services read, so their own limit is met too
	opts, err := serve.HandlerOptions(logx.Discard(), testkit.Tokens{})
	if err != nil {
		t.Fatal(err)
	}
	// A real Connect handler with the options every service has; its
	// methods are unimplemented, which is the answer a body that got
	// through receives.
	mux := http.NewServeMux()
	mux.Handle(userv1connect.NewUserServiceHandler(userv1connect.UnimplementedUserServiceHandler{}, opts...))
	upstream, err := url.Parse(servetest.Start(t, mux))
	if err != nil {
		t.Fatal(err)
	}
	prefix := ServicePrefix(userv1connect.UserServiceName)
	edges := map[string]Route{
		"in-process": {Prefix: prefix, Handler: mux},
		"proxied":    {Prefix: prefix, Targets: []*url.URL{upstream}},
	}
	huge := `{"email":"` + strings.Repeat("a", max) + `@example.com"}`
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(huge))
	zw.Close()
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	zw.Write([]byte(`{"email":"ada@example.com","password":"a long passphrase"}`))
	zw.Close()
	if zipped.Len() >= max {
		t.Fatalf("the compressed body (%d bytes) must be under the limit", zipped.Len())
	}
	for name, route := range edges {
		h, err := New(context.Background(), Config{Routes: []Route{route}, MaxBodyBytes: max, Log: logx.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			how      string
			body     []byte
			length   bool // send a Content-Length
			gzip     bool
			status   int
			wantCode string
		}{
			{"with Content-Length", []byte(huge), true, false, http.StatusRequestEntityTooLarge, "invalid_argument"},
			{"chunked", []byte(huge), false, false, http.StatusRequestEntityTooLarge, "invalid_argument"},
			{"gzip inflating past the limit", zipped.Bytes(), true, true, http.StatusRequestEntityTooLarge, "invalid_argument"},
			{"gzip inflating past the limit, chunked", zipped.Bytes(), false, true, http.StatusRequestEntityTooLarge, "invalid_argument"},
			{"gzip within the limit", small.Bytes(), true, true, http.StatusNotImplemented, "unimplemented"},
		} {
			req := httptest.NewRequest(http.MethodPost, prefix+"Register", io.NopCloser(bytes.NewReader(tc.body)))
			req.Header.Set("Content-Type", "application/json")
			req.ContentLength = -1
			if tc.length {
				req.ContentLength = int64(len(tc.body))
			}
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+tc.wantCode+`"`) {
				t.Errorf("%s, %s: %d %s, want %d %s", name, tc.how, rec.Code, rec.Body, tc.status, tc.wantCode)
			}
		}
	}
}
