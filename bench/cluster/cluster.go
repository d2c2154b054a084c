// Package cluster runs the real bin/emporium as separate processes for the
// tests that need a shop spread over processes (bench/chaos's fault
// injection, bench/e2e's multi-process journey): a PostgreSQL cluster and
// a Redis server of the test's own, on free loopback ports, and emporium
// processes that can be started, stopped and killed with SIGKILL. Every
// server and process it starts is stopped by t.Cleanup and dies with the
// test binary.
package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

// Missing skips the test for want of a server it needs, as the other tests
// skip without PostgreSQL or Redis, except in CI, where it fails.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// FreePort is a loopback port nothing listens on at the moment.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WorkDir is a directory for the cluster's servers, readable by the
// postgres user (t.TempDir is private to this user), removed at the end.
func WorkDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "emporium-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// ---------------------------------------------------------------- PostgreSQL

// Postgres is a PostgreSQL cluster of the test's own (initdb in a
// temporary directory, on a free port), so that stopping it disturbs
// nobody else's tests. PostgreSQL refuses to run as root: as root, its
// commands run as the postgres user.
type Postgres struct {
	bin, data, sock, logFile string
	port                     int
	uid, gid                 int // of the postgres user when this process is root; -1 otherwise
	cmd                      *exec.Cmd
	done                     chan struct{}
}

func StartPostgres(t testing.TB, dir string) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.Sort(bins)
	pg := &Postgres{port: FreePort(t), uid: -1, gid: -1}
	switch {
	case len(bins) > 0:
		pg.bin = filepath.Dir(bins[len(bins)-1])
	default:
		p, err := exec.LookPath("initdb")
		if err != nil {
			Missing(t, "no PostgreSQL server binaries (initdb, postgres): install postgresql")
		}
		pg.bin = filepath.Dir(p)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root, and there is no postgres user to run PostgreSQL as")
		}
		pg.uid, _ = strconv.Atoi(u.Uid)
		pg.gid, _ = strconv.Atoi(u.Gid)
	}
	pg.data, pg.sock, pg.logFile = filepath.Join(dir, "pg"), filepath.Join(dir, "pg-sock"), filepath.Join(dir, "pg.log")
	for _, d := range []string{pg.data, pg.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(pg.logFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if pg.uid >= 0 {
		for _, p := range []string{pg.data, pg.sock, pg.logFile} {
			if err := os.Chown(p, pg.uid, pg.gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := pg.run("initdb", "-D", pg.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 300\nshared_buffers = 64MB\n", pg.port, pg.sock)
	f, err := os.OpenFile(filepath.Join(pg.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if pg.cmd != nil {
			_ = pg.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
			<-pg.done
		}
	})
	return pg
}

func (pg *Postgres) run(tool string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, tool), args...)
	cmd.Dir = filepath.Dir(pg.data)
	cmd.SysProcAttr = pg.attr()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start starts the server (postgres itself, as a child of this process
// that dies with it) and waits until it accepts connections.
func (pg *Postgres) Start() error {
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), "-D", pg.data)
	f, err := os.OpenFile(pg.logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = filepath.Dir(pg.data)
	cmd.SysProcAttr = pg.attr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pg.cmd, pg.done = cmd, done
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pg.port), time.Second); err == nil {
			c.Close()
			if exec.Command(filepath.Join(pg.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port)).Run() == nil {
				return nil
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(pg.logFile)
			return fmt.Errorf("postgres exited at start:\n%s", Tail(string(log), 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("postgres did not accept connections within 60 s")
}

// Stop shuts the server down the way `pg_ctlcluster … restart` does: a
// fast shutdown (SIGINT), which ends open sessions and loses nothing
// committed.
func (pg *Postgres) Stop() error {
	if pg.cmd == nil {
		return nil
	}
	_ = pg.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-pg.done:
	case <-time.After(60 * time.Second):
		_ = pg.cmd.Process.Kill()
		<-pg.done
		return errors.New("postgres did not shut down within 60 s; killed")
	}
	pg.cmd = nil
	return nil
}

// attr runs a child as the postgres user when this process is root, and
// kills it when this process dies (however the test ends).
func (pg *Postgres) attr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if pg.uid >= 0 {
		a.Credential = &syscall.Credential{Uid: uint32(pg.uid), Gid: uint32(pg.gid)}
	}
	return a
}

// URL is the URL of database db.
func (pg *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// ---------------------------------------------------------------- Redis

// Redis is a redis-server of the test's own, without persistence: when it
// comes back it has forgotten everything, as a replaced Redis has.
type Redis struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
	log  *testkit.SyncBuffer
}

func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		Missing(t, "redis-server is not installed")
	}
	r := &Redis{port: FreePort(t), log: new(testkit.SyncBuffer)}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Start starts the server on its port and waits until it answers PING.
func (r *Redis) Start() error {
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning")
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		select {
		case <-r.done:
			return fmt.Errorf("redis-server exited: %s", r.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("redis-server did not answer PING within 10 s")
}

// Stop ends the server (SIGKILL: it keeps nothing anyway).
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// ---------------------------------------------------------------- emporium processes

// Proc is a bin/emporium process on a fixed port, restartable.
type Proc struct {
	t    testing.TB
	name string
	bin  string
	args []string
	env  []string
	port int
	log  *testkit.SyncBuffer // every run's output, in order

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func NewProc(t testing.TB, bin, name string, port int, env []string, args ...string) *Proc {
	p := &Proc{t: t, name: name, bin: bin, port: port, env: env, log: new(testkit.SyncBuffer),
		args: append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}, args...)}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			p.keepLog(t)
		}
	})
	return p
}

// keepLog writes the process's whole output to
// bin/process-logs/TEST-NAME.log (relative to the repository, from a
// package two levels down as bench/chaos and bench/e2e are) and logs only
// its last lines, cut short: the failures a test reports stay at the end of
// its output instead of under pages of the processes' own logs (CI shows the
// end).
func (p *Proc) keepLog(t testing.TB) {
	dir := filepath.Join("..", "..", "bin", "process-logs")
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + p.name + ".log"
	path := filepath.Join(dir, name)
	out := p.log.String()
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			path = "not kept: " + err.Error()
		}
	}
	lines := strings.Split(Tail(out, 5), "\n")
	for i, l := range lines {
		if len(l) > 240 {
			lines[i] = l[:240] + "…"
		}
	}
	t.Logf("--- %s's last lines (whole log: %s):\n%s", p.name, path, strings.Join(lines, "\n"))
}

func (p *Proc) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.port) }

// Start starts the process and waits until /healthz answers 200.
func (p *Proc) Start() error {
	p.mu.Lock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return WaitHealthy(p.URL()+"/healthz", done, 60*time.Second, p.name, p.log)
}

func WaitHealthy(url string, done <-chan struct{}, within time.Duration, name string, log *testkit.SyncBuffer) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := client.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited at start:\n%s", name, Tail(log.String(), 30))
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s was not healthy at %s within %s:\n%s", name, url, within, Tail(log.String(), 30))
}

// Kill9 kills the process with SIGKILL and waits for it to be gone.
func (p *Proc) Kill9() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Stop stops the process (SIGTERM, SIGKILL after 10 s).
func (p *Proc) Stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Pid is the running process's id, 0 when it is not running.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Port is the server's port.
func (pg *Postgres) Port() int { return pg.port }

// Port is the server's port.
func (r *Redis) Port() int { return r.port }

// Port is the process's listening port.
func (p *Proc) Port() int { return p.port }

// Log is everything the process wrote, over all its runs.
func (p *Proc) Log() string { return p.log.String() }

// Binary is bin/emporium at the top of the module (go tool task build),
// or $EMPORIUM_BIN; the test fails when it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("EMPORIUM_BIN")
	if bin == "" {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			t.Fatalf("cannot find the module root: %v", err)
		}
		bin = filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "bin", "emporium")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("%s: %v (build it with `go tool task build`, or set EMPORIUM_BIN)", abs, err)
	}
	return abs
}

// Name is the name the process was made with.
func (p *Proc) Name() string { return p.name }
