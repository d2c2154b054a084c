package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/logx"
)

func TestCORSOnlyForConfiguredOrigins(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h, err := New(context.Background(), Config{Routes: []Route{{Prefix: "/emporium.product.v1.ProductService/", Handler: ok}},
		CORSOrigins: []string{"https://shop.example.com"}, Log: logx.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	for origin, allowed := range map[string]bool{"https://shop.example.com": true, "https://evil.example.net": false} {
		req := httptest.NewRequest(http.MethodOptions, "/emporium.product.v1.ProductService/ListProducts", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		// An app on another origin sends its own W3C trace context.
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,content-type,traceparent,tracestate")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin") == origin; got != allowed {
			t.Errorf("preflight from %s: allowed = %v, want %v (status %d, headers %v)", origin, got, allowed, rec.Code, rec.Header())
		}
	}
}
