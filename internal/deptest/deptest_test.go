package deptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// module is the module whose boundaries this test keeps.
const module = "github.com/emporiumhq/emporium"

// testWorld is the shared test world: it brings every service into one test
// process, so it imports them all, and any package may import it. Neither
// it nor an import of it is held to the rules.
const testWorld = "internal/testworld"

// rules are the boundaries. No package under From may directly import a
// package under To, in its own files or in its tests. Paths are relative to
// the module. "svc/*" is one service with every package under it; a rule
// with svc/* on both sides is about two different services, so a service may
// import its own packages. cmd/ (which wires the services and the edge into
// one binary), bench/ and gen/ are under no rule.
var rules = []rule{
	{"svc/*", "svc/*", "services reach each other over Connect, tests through " + testWorld},
	{"edge", "svc/*", "the edge reaches services over the network only"},
	{"internal/platform", "svc/*", "platform is plumbing beneath the services"},
	{"internal/platform", "edge", "platform is plumbing beneath the edge"},
}

type rule struct{ From, To, Why string }

// TestImportBoundaries fails on every direct import, by a package or its
// tests, that a rule forbids.
func TestImportBoundaries(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := inModule(p.ImportPath)
		if isUnder(testWorld, from) {
			continue
		}
		for _, part := range []struct {
			importer string
			imports  []string
			files    []string
		}{
			{from, p.Imports, slices.Concat(p.GoFiles, p.CgoFiles)},
			{from + " [test]", p.TestImports, p.TestGoFiles},
			{from + "_test", p.XTestImports, p.XTestGoFiles},
		} {
			for _, imp := range part.imports {
				to, ok := inModule(imp)
				if !ok || isUnder(testWorld, to) {
					continue
				}
				for _, r := range rules {
					if r.forbids(from, to) {
						t.Errorf("%s imports %s (%s): %s", part.importer, to, strings.Join(importing(t, p.Dir, part.files, imp), ", "), r.Why)
					}
				}
			}
		}
	}
}

// TestPackageDocs wants a package comment on every package but the
// generated ones: "// Package name ...", or "// Command name ..." on a
// main package, in one of its non-test files.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		rel, _ := inModule(p.ImportPath)
		if isUnder("gen", rel) {
			continue
		}
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		switch {
		case p.Doc == "":
			t.Errorf("%s has no package comment: add one (%q) to a non-test file, such as doc.go", rel, want+"…")
		case !strings.HasPrefix(p.Doc, want):
			t.Errorf("%s: package comment %q does not start with %q", rel, p.Doc, want)
		}
	}
}

func TestRules(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"svc/order", "svc/payment", true},
		{"svc/order", "svc/payment/provider", true},
		{"svc/shipping/ups", "svc/order", true},
		{"svc/order", "svc/order", false},
		{"svc/shipping/ups/upstest", "svc/shipping/internal/carrierfake", false},
		{"svc/order", "svc/orderly", true},
		{"svc/order", "gen/emporium/payment/v1/paymentv1connect", false},
		{"svc/order", "internal/platform/jobs", false},
		{"edge", "svc/user", true},
		{"edge/auth", "svc/user", true},
		{"edge/auth", "edge", false},
		{"edgeless", "svc/user", false},
		{"internal/platform/serve", "svc/product/search", true},
		{"internal/platform/serve/servetest", "edge", true},
		{"internal/platform/db/dbtest", "internal/platform/db", false},
		{"cmd/emporium", "svc/order", false},
		{"cmd/emporium", "edge", false},
	}
	for _, tt := range tests {
		got := slices.ContainsFunc(rules, func(r rule) bool { return r.forbids(tt.from, tt.to) })
		if got != tt.want {
			t.Errorf("%s importing %s: forbidden = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// forbids reports whether r forbids package from importing package to.
func (r rule) forbids(from, to string) bool {
	a, ok := match(r.From, from)
	if !ok {
		return false
	}
	b, ok := match(r.To, to)
	if !ok {
		return false
	}
	sameService := a != "" && a == b
	return !sameService
}

// match reports whether pkg is under pattern and, for a pattern ending in
// "/*", returns the path element that * stands for.
func match(pattern, pkg string) (elem string, ok bool) {
	prefix, wild := strings.CutSuffix(pattern, "/*")
	if !wild {
		return "", isUnder(pattern, pkg)
	}
	rest, ok := strings.CutPrefix(pkg, prefix+"/")
	if !ok || rest == "" {
		return "", false
	}
	elem, _, _ = strings.Cut(rest, "/")
	return elem, true
}

// isUnder reports whether pkg is dir or a package below it.
func isUnder(dir, pkg string) bool {
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// inModule returns path relative to the module, or false for a package of
// another module or the standard library.
func inModule(path string) (string, bool) {
	return strings.CutPrefix(path, module+"/")
}

// pkg is what the tests read of `go list -json`.
type pkg struct {
	ImportPath   string
	Name         string
	Doc          string // synopsis of the package comment (non-test files)
	Dir          string
	GoFiles      []string
	CgoFiles     []string
	TestGoFiles  []string
	XTestGoFiles []string
	Imports      []string // direct imports of GoFiles and CgoFiles
	TestImports  []string // of TestGoFiles (package name)
	XTestImports []string // of XTestGoFiles (package name_test)
}

var listed = sync.OnceValues(func() ([]pkg, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list",
		"-json=ImportPath,Name,Doc,Dir,GoFiles,CgoFiles,TestGoFiles,XTestGoFiles,Imports,TestImports,XTestImports",
		"./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w\n%s", root, err, stderr.Bytes())
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("go list in %s found no packages", root)
	}
	return pkgs, nil
})

// listPackages returns every package of the module, from one `go list` run.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := listed()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// importing returns which of files (in dir) import path, to name them in a
// failure.
func importing(t *testing.T, dir string, files []string, path string) []string {
	t.Helper()
	var out []string
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			if p, _ := strconv.Unquote(spec.Path.Value); p == path {
				out = append(out, name)
				break
			}
		}
	}
	return out
}
