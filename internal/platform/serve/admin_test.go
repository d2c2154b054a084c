package serve_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/serve"
)

// TestAdminProfilesOnlyWhenAsked: the admin listener serves Go's profiles
// only with profiling on, and metrics and health either way.
func TestAdminProfilesOnlyWhenAsked(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "up 1\n") })
	get := func(h http.Handler, path string) (int, string) {
		t.Helper()
		srv := httptest.NewServer(h)
		defer srv.Close()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, profiling := range []bool{false, true} {
		h := serve.Admin(metrics, profiling)
		if code, body := get(h, "/metrics"); code != 200 || body != "up 1\n" {
			t.Errorf("profiling %v: /metrics = %d %q", profiling, code, body)
		}
		if code, _ := get(h, "/healthz"); code != 200 {
			t.Errorf("profiling %v: /healthz = %d", profiling, code)
		}
		code, body := get(h, "/debug/pprof/goroutine?debug=1")
		switch {
		case profiling && (code != 200 || !strings.Contains(body, "goroutine profile:")):
			t.Errorf("profiling on: goroutine profile = %d %.80q", code, body)
		case !profiling && code != http.StatusNotFound:
			t.Errorf("profiling off: /debug/pprof/ = %d, want 404", code)
		}
	}
}
