// Package stripemocktest runs stripe-mock, Stripe's stateless API fake, for
// tests of code that talks to Stripe. stripe-mock is built from
// tools/stripe-mock.mod with `go tool`, so it needs no separate install.
//
// When stripe-mock cannot run, tests are skipped on a laptop but fail when
// the CI environment variable is set: CI must test the Stripe adapter.
package stripemocktest

import (
	"bytes"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startTimeout bounds the wait for stripe-mock to listen; the first run
// compiles it, which can take a while.
const startTimeout = 3 * time.Minute

// Start runs stripe-mock on free loopback ports for the test's lifetime and
// returns its HTTP base URL, e.g. "http://127.0.0.1:41234".
func Start(t testing.TB) (baseURL string) {
	t.Helper()
	root := repoRoot(t)
	httpAddr, httpsAddr := freePort(t), freePort(t)
	cmd := exec.Command("go", "tool", "-modfile="+filepath.Join(root, "tools", "stripe-mock.mod"),
		"stripe-mock", "-http-addr", httpAddr, "-https-addr", httpsAddr)
	cmd.Dir = root
	setProcessGroup(cmd)
	var out testkit.SyncBuffer
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
	deadline := time.Now().Add(startTimeout)
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

// repoRoot walks up from the test's working directory (its package
// directory) to the module root: the directory whose go.mod declares our
// module and which holds the tool modfile.
func repoRoot(t testing.TB) string {
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
			t.Fatal("stripemocktest: module root with tools/stripe-mock.mod not found above the package directory")
		}
		dir = parent
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// skipOrFatal skips when stripe-mock cannot run on a laptop, fails in CI.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
