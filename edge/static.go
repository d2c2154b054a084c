package edge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
)

// reservedPrefixes are paths the edge or a service owns. A web app never
// answers them, even when no route serves them in this process (a GET of
// /dev/mailbox on an edge without the dev mailbox is a 404, not the app).
var reservedPrefixes = []string{"/audit/", "/dev/", "/payment-simulator/", "/webhooks/", "/.well-known/", "/media/", "/healthz"}

// Static serves a built single-page app (Vite's output: index.html plus
// content-hashed files under assets/) from dir, for the route "/":
//
//   - files are served as they are; those under /assets/ carry a hash in
//     their name and are cached for a year (immutable), everything else
//     (index.html, favicon) is revalidated on every use (no-cache);
//   - a file with a gzip twin (app.js and app.js.gz) is sent compressed to
//     clients that accept gzip;
//   - any other GET or HEAD of a path without a file extension gets
//     index.html, so the app's own router handles /products/linen-apron on
//     a reload;
//   - RPC paths (/package.Service/Method), the edge's own paths (/dev/,
//     /payment-simulator/, /webhooks/, /.well-known/, /media/, /healthz) and
//     missing files with an extension (a stale /assets/old.js) are 404s,
//     never the app's HTML; other methods are 405.
//
// More specific routes registered with the edge always win over "/", so the
// app never shadows a service. dir is read on every request: rebuilding the
// app needs no restart.
func Static(dir string) (http.Handler, error) {
	return newStatic(dir, "/", shopCSP, "web-build")
}

// AdminPrefix is where the edge serves the admin panel.
const AdminPrefix = "/admin/"

// StaticAdmin serves the built admin panel (apps/admin/dist, built with
// Vite's base /admin/) under AdminPrefix, by the rules of Static: hashed
// assets immutable, index.html revalidated, gzip twins, and index.html for
// the panel's own routes (/admin/orders/o_123 on a reload). Its pages get a
// stricter Content-Security-Policy than the shop's (no payment provider's
// hosts; blob: for label PDFs and image previews).
func StaticAdmin(dir string) (http.Handler, error) {
	return newStatic(dir, AdminPrefix, adminCSP, "admin-build")
}

func newStatic(dir, prefix, csp, task string) (http.Handler, error) {
	st, err := os.Stat(path.Join(dir, "index.html"))
	if err != nil || st.IsDir() {
		return nil, fmt.Errorf("edge: %s has no index.html: build the app first (go tool task %s)", dir, task)
	}
	return &static{fsys: os.DirFS(dir), prefix: prefix, csp: csp}, nil
}

// shopCSP allows Stripe's hosts for the checkout's Payment Element, which
// shops on Stripe load from js.stripe.com (its iframes talk to
// api.stripe.com; 3-D Secure frames come from hooks.stripe.com), as
// Stripe's security guide lists them. A shop on the simulator never loads
// anything from there.
const shopCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"script-src 'self' https://js.stripe.com https://*.js.stripe.com; " +
	"frame-src 'self' https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; " +
	"connect-src 'self' https://api.stripe.com; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// adminCSP is the admin panel's: its own origin only. Its component library
// writes its styles into <style> elements (hence 'unsafe-inline' for
// styles); label PDFs and chosen images are shown from blob: URLs.
const adminCSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
	"script-src 'self'; frame-src 'self' blob:; object-src 'self' blob:; connect-src 'self'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

type static struct {
	fsys   fs.FS
	prefix string // "/" or "/admin/": the app's route on the edge
	csp    string
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := path.Clean("/" + r.URL.Path)
	if isReserved(p) || isRPCPath(p) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	root := strings.TrimSuffix(s.prefix, "/")
	if p != root && !strings.HasPrefix(p, root+"/") {
		// Only reachable when mounted at a route that is not the app's
		// prefix; path.Clean can also take /admin/../x out of it.
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
	if name == "" || name == "index.html" {
		s.serveIndex(w, r)
		return
	}
	if st, err := fs.Stat(s.fsys, name); err == nil && !st.IsDir() && !strings.HasSuffix(name, ".gz") {
		h := w.Header()
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		s.serveFile(w, r, name)
		return
	}
	if strings.Contains(path.Base(name), ".") {
		// A file that is not there: never answer a script or stylesheet
		// request with HTML.
		http.NotFound(w, r)
		return
	}
	s.serveIndex(w, r)
}

func (s *static) serveIndex(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp)
	s.serveFile(w, r, "index.html")
}

// serveFile sends name, or its gzip twin when there is one and the client
// takes gzip. http.ServeContent handles HEAD, ranges and If-Modified-Since.
func (s *static) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	send := name
	if _, err := fs.Stat(s.fsys, name+".gz"); err == nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			send = name + ".gz"
		}
	}
	f, err := s.fsys.Open(send)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "cannot read the file", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "cannot read the file", http.StatusInternalServerError)
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "cannot read the file", http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func isReserved(p string) bool {
	for _, prefix := range reservedPrefixes {
		if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// isRPCPath reports whether p looks like a Connect or gRPC method path,
// /package.Service/Method: a first segment with a dot, then more.
func isRPCPath(p string) bool {
	first, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return ok && rest != "" && strings.Contains(first, ".")
}
