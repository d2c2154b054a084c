package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
)

func TestDevServesTheWebAppBesideTheAPI(t *testing.T) {
	t.Parallel()
	web, admin := t.TempDir(), t.TempDir()
	const index = `<!doctype html><title>Emporium shop</title><div id="root"></div>`
	const adminIndex = `<!doctype html><title>Emporium admin</title><div id="app"></div>`
	for dir, files := range map[string]map[string]string{
		web:   {"index.html": index, "assets/index-D4f2.js": "export {}"},
		admin: {"index.html": adminIndex, "assets/index-Q8z1.js": "export {}"},
	} {
		if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	addr := freeAddr(t)
	out := start(t, addr, map[string]string{"EMPORIUM_WEB_DIR": web, "EMPORIUM_ADMIN_DIR": admin},
		"dev", "--listen", addr, "--data-dir", t.TempDir(), "--log-level", "warn")
	if strings.Contains(out.String(), "not built") {
		t.Errorf("dev with a web dir and an admin dir printed a hint to build them:\n%s", out)
	}
	base := "http://" + addr

	get := func(path string) (int, string, http.Header) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body), res.Header
	}
	for _, path := range []string{"/", "/products/linen-apron", "/checkout"} {
		if code, body, h := get(path); code != 200 || body != index || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s = %d %q (Cache-Control %q), want the app", path, code, body, h.Get("Cache-Control"))
		}
	}
	if code, _, h := get("/assets/index-D4f2.js"); code != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Errorf("GET asset = %d, Cache-Control %q", code, h.Get("Cache-Control"))
	}
	for _, path := range []string{"/admin/", "/admin/orders/o_1"} {
		if code, body, h := get(path); code != 200 || body != adminIndex || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s = %d %q (Cache-Control %q), want the admin panel", path, code, body, h.Get("Cache-Control"))
		}
	}
	if code, _, h := get("/admin/assets/index-Q8z1.js"); code != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Errorf("GET admin asset = %d, Cache-Control %q", code, h.Get("Cache-Control"))
	}
	if code, body, _ := get("/dev/mailbox?format=json"); code != 200 || !strings.Contains(body, `"messages"`) {
		t.Errorf("GET /dev/mailbox = %d %.100q, want the mailbox", code, body)
	}
	if code, body, _ := get("/.well-known/jwks.json"); code != 200 || !strings.Contains(body, `"keys"`) {
		t.Errorf("GET jwks = %d %.100q", code, body)
	}
	if code, body, _ := get("/media/products/linen-apron.svg"); code == 200 && strings.Contains(body, "<!doctype html>") {
		t.Errorf("GET /media/… answered with the app")
	}

	client := productv1connect.NewProductServiceClient(http.DefaultClient, base, connect.WithProtoJSON())
	res, err := client.ListProducts(context.Background(), &productv1.ListProductsRequest{PageSize: 2})
	if err != nil || len(res.GetProducts()) != 2 {
		t.Fatalf("ListProducts beside the app = %v, %v", res, err)
	}
}

func TestServeWebDirNeedsTheEdgeAndABuild(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"without the edge": {"serve", "--services", "shipping", "--web-dir", t.TempDir()},
		"without a build":  {"serve", "--services", "edge", "--web-dir", t.TempDir(), "--listen", "127.0.0.1:0"},
	} {
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--web-dir") {
			t.Errorf("%s: err = %v, want a --web-dir error", name, err)
		}
	}
}

func TestServeAdminDirNeedsTheEdgeAndABuild(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"without the edge": {"serve", "--services", "shipping", "--admin-dir", t.TempDir()},
		"without a build":  {"serve", "--services", "edge", "--admin-dir", t.TempDir(), "--listen", "127.0.0.1:0"},
	} {
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--admin-dir") {
			t.Errorf("%s: err = %v, want an --admin-dir error", name, err)
		}
	}
}
