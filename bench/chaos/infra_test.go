package chaos

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/bench/cluster"
)

// The suite's servers and processes come from bench/cluster.
type (
	postgres = cluster.Postgres
	redis    = cluster.Redis
	proc     = cluster.Proc
)

var (
	freePort      = cluster.FreePort
	workDir       = cluster.WorkDir
	startPostgres = cluster.StartPostgres
	startRedis    = cluster.StartRedis
	newProc       = cluster.NewProc
)

// ---------------------------------------------------------------- an outage in front of a server

// switchProxy forwards a loopback port to a server and can be turned off:
// then the port refuses connections and open ones are cut, as when the
// server (an SMTP relay, say) is down.
type switchProxy struct {
	port   int
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func startProxy(t testing.TB, target string) *switchProxy {
	t.Helper()
	p := &switchProxy{port: freePort(t), target: target, conns: map[net.Conn]struct{}{}}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Down)
	return p
}

// Up listens again.
func (p *switchProxy) Up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
	if err != nil {
		return err
	}
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	return nil
}

func (p *switchProxy) forward(c net.Conn) {
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// Down closes the port and cuts every open connection.
func (p *switchProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}
