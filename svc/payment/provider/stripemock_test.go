package provider

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot walks up from the package directory to the module root: the
// directory whose go.mod declares our module and which holds the tool modfile.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(mod, []byte("module github.com/emporiumhq/emporium\n")) {
			if _, err := os.Stat(filepath.Join(dir, "tools", "stripe-mock.mod")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root with tools/stripe-mock.mod not found above the package directory")
		}
		dir = parent
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// skipOrFatal skips when stripe-mock cannot run on a laptop, fails in CI.
func skipOrFatal(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startStripeMock runs stripe-mock on free loopback ports for the test's
// lifetime and returns its HTTP base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	httpAddr, httpsAddr := freePort(t), freePort(t)
	cmd := exec.Command("go", "tool", "-modfile="+filepath.Join(root, "tools", "stripe-mock.mod"),
		"stripe-mock", "-http-addr", httpAddr, "-https-addr", httpsAddr)
	cmd.Dir = root
	setProcessGroup(cmd)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		skipOrFatal(t, "cannot start stripe-mock: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		killProcessGroup(cmd)
		<-exited
	})
	// The first run compiles stripe-mock, which can take a while.
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			skipOrFatal(t, "stripe-mock exited: %v\n%s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", httpAddr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + httpAddr
		}
		time.Sleep(100 * time.Millisecond)
	}
	skipOrFatal(t, "stripe-mock did not listen on %s in time\n%s", httpAddr, out.String())
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recordedRequest is what the recorder saw of one API call.
type recordedRequest struct {
	Method, Path, IdempotencyKey string
	Form                         string
}

// recorder is an http.RoundTripper that records requests and passes them on.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recordedRequest
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recordedRequest{Method: req.Method, Path: req.URL.Path,
		IdempotencyKey: req.Header.Get("Idempotency-Key"), Form: string(body)})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// find returns the last request to path.
func (r *recorder) find(method, path string) (recordedRequest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].Method == method && r.reqs[i].Path == path {
			return r.reqs[i], nil
		}
	}
	var seen strings.Builder
	w := bufio.NewWriter(&seen)
	for _, q := range r.reqs {
		fmt.Fprintf(w, "%s %s\n", q.Method, q.Path)
	}
	w.Flush()
	return recordedRequest{}, fmt.Errorf("no %s %s; saw:\n%s", method, path, seen.String())
}
