package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
)

// BenchmarkLimitsMiddleware is the edge's own work around a Take: the
// route's class, the bucket's key, the decision's metric and headers, on
// the in-process limiter so Redis' round trip (BenchmarkTake in
// internal/platform/ratelimit) is left out.
func BenchmarkLimitsMiddleware(b *testing.B) {
	l := &Limits{
		Limiter: ratelimit.NewMemory(nil),
		Classes: map[string]ratelimit.Limit{"default": {Rate: 1e9, Burst: 1 << 30}, "auth": {Rate: 10, Burst: 10}},
		Routes:  map[string]string{"/emporium.user.v1.AuthService/": "auth"},
		User:    func(*http.Request) string { return "0193a3f2-6c1e-7d2a-9b8e-4f5a6b7c8d9e" },
	}
	h := l.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	r := httptest.NewRequest(http.MethodPost, "/emporium.product.v1.ProductService/GetProduct", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
