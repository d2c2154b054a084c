package edge

import (
	"bytes"
	"embed"
	"net/http"
	"time"

	"github.com/emporiumhq/emporium/gen/openapi"
)

//go:embed openapidocs
var openAPIDocs embed.FS

// OpenAPI serves the OpenAPI 3 document of every RPC (generated from the
// protos, gen/openapi) at /openapi/openapi.json and a small page that
// renders it at /openapi/: every service, method, field and error, with a
// curl command for each. The page is self-contained (its script and style
// come from the same path; nothing is loaded from elsewhere).
func OpenAPI() http.Handler {
	mux := http.NewServeMux()
	page := func(name, contentType string) http.HandlerFunc {
		body, err := openAPIDocs.ReadFile("openapidocs/" + name)
		if err != nil {
			panic(err) // embedded above; a missing file fails every test
		}
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", contentType)
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
		}
	}
	mux.Handle("GET /openapi/{$}", page("index.html", "text/html; charset=utf-8"))
	mux.Handle("GET /openapi/docs.js", page("docs.js", "text/javascript; charset=utf-8"))
	mux.Handle("GET /openapi/docs.css", page("docs.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /openapi/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Access-Control-Allow-Origin", "*") // a public description, for tools on other origins
		http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(openapi.JSON))
	})
	return mux
}
