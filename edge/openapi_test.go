package edge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	_ "github.com/emporiumhq/emporium/gen/emporium/user/v1"
)

// TestOpenAPIDescribesEveryRPC: the edge serves a valid OpenAPI 3 document
// with every RPC of every Emporium service at its Connect path, its access
// rule, its fields and Connect's error, and a docs page that loads nothing
// from elsewhere.
func TestOpenAPIDescribesEveryRPC(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(OpenAPI())
	t.Cleanup(srv.Close)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}

	res, body := get("/openapi/openapi.json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI 3: %v", err)
	}

	n := 0
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "emporium.") {
			return true
		}
		for i := range f.Services().Len() {
			svc := f.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				n++
				path := "/" + string(svc.FullName()) + "/" + string(m.Name())
				item := doc.Paths.Value(path)
				if item == nil || item.Post == nil {
					t.Errorf("%s is not in the OpenAPI document", path)
					continue
				}
				op := item.Post
				if op.Extensions["x-emporium-access"] == nil {
					t.Errorf("%s: no access rule", path)
				}
				req := op.RequestBody.Value.Content.Get("application/json").Schema
				if want := string(m.Input().FullName()); req == nil || req.Ref != "#/components/schemas/"+want {
					t.Errorf("%s: request schema %v, want %s", path, req, want)
				} else if got, want := len(req.Value.Properties), m.Input().Fields().Len(); got != want {
					t.Errorf("%s: request has %d fields, the message %d", path, got, want)
				}
				if e := op.Responses.Default(); e == nil || e.Value.Content.Get("application/json").Schema.Ref != "#/components/schemas/connect.Error" {
					t.Errorf("%s: errors are not described as Connect errors", path)
				}
			}
		}
		return true
	})
	if n == 0 || doc.Paths.Len() != n {
		t.Errorf("the document has %d paths, the services %d RPCs", doc.Paths.Len(), n)
	}

	res, page := get("/openapi/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/openapi/: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
		t.Errorf("/openapi/ CSP %q: want nothing from elsewhere", csp)
	}
	for _, asset := range []string{"/openapi/docs.js", "/openapi/docs.css"} {
		res, text := get(asset)
		if res.StatusCode != http.StatusOK || len(text) == 0 {
			t.Errorf("%s: %s", asset, res.Status)
		}
		page += text
	}
	if external := regexp.MustCompile(`(src|href)=["']?(https?:)?//`).FindString(page); external != "" {
		t.Errorf("the docs page loads from elsewhere: %s", external)
	}
}
