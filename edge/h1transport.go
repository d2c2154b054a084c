package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// h1Transport is the edge's HTTP/1.1 keep-alive client for proxied calls.
// It makes each round trip on the caller's goroutine: it writes the request
// with net/http's own (*http.Request).Write and reads the answer with
// http.ReadResponse, on a pooled connection, and sends a unary call's
// headers and body in one write. http.Transport hands every request to the
// connection's write loop and the answer back from its read loop, and
// writes the headers on their own before a streamed body. Together that cut
// the edge's CPU per proxied unary call by about 15 % (docs/benchmarks.md).
//
// What it leaves to fallback (http.Transport): https upstreams and protocol
// upgrades. It does not retry: like http.Transport, which retries a request
// with a body only when it can replay it, and ReverseProxy's requests cannot
// be replayed. Instead it checks that an idle connection is still open
// before reusing it, which is what http.Transport's parked read loop learns
// for free.
type h1Transport struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	fallback http.RoundTripper
	// maxIdle connections are kept per upstream address; an idle one is
	// closed after idleTimeout, before the upstream closes it (serve's
	// servers keep idle connections for two minutes).
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle map[string][]*h1Conn // per host:port, most recently used last
}

type h1Conn struct {
	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// maxBufferedBody is the largest request body read whole before it is
// sent; larger ones are streamed.
const maxBufferedBody = 64 << 10

// aLongTimeAgo, as a deadline, makes every pending and future read and
// write on a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Header.Get("Upgrade") != "" {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	// A unary call's body, read before the request is written, goes out in
	// the same write as the headers: (*http.Request).Write flushes the
	// headers on their own before a body it cannot see the end of, one more
	// write here and one more read upstream.
	if req.Body != nil && req.ContentLength > 0 && req.ContentLength <= maxBufferedBody {
		body := make([]byte, req.ContentLength)
		_, err := io.ReadFull(req.Body, body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		out := new(http.Request)
		*out = *req
		out.Body = io.NopCloser(bytes.NewReader(body))
		req = out
	}
	key := req.URL.Host
	c, err := t.get(ctx, key)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	// Cancelling the request (the caller left, the deadline passed) fails
	// the connection's pending reads and writes; the connection is then
	// closed, never reused.
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = c.conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil { // closes req.Body
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(c.br, req)
	// Informational answers (100 Continue, 103 Early Hints) precede the
	// real one; ReverseProxy does not need them.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = http.ReadResponse(c.br, req)
	}
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_, _ = fail(nil)
		return nil, errors.New("edge: upstream switched protocols on a request that did not ask to")
	}
	resp.Body = &h1Body{body: resp.Body, t: t, c: c, key: key, ctx: ctx, stop: stop, keep: !resp.Close}
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// get returns an idle connection to addr that is still open, or dials one.
func (t *h1Transport) get(ctx context.Context, addr string) (*h1Conn, error) {
	now := time.Now()
	for {
		t.mu.Lock()
		conns := t.idle[addr]
		if len(conns) == 0 {
			t.mu.Unlock()
			break
		}
		c := conns[len(conns)-1]
		conns[len(conns)-1] = nil
		t.idle[addr] = conns[:len(conns)-1]
		t.mu.Unlock()
		if now.Sub(c.idleSince) < t.idleTimeout && stillOpen(c.conn) {
			return c, nil
		}
		_ = c.conn.Close()
	}
	conn, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &h1Conn{conn: conn, br: bufio.NewReaderSize(conn, 4<<10), bw: bufio.NewWriterSize(conn, 4<<10)}, nil
}

// put keeps c for the next request to addr, closing the connections that
// have been idle too long or are over maxIdle.
func (t *h1Transport) put(addr string, c *h1Conn) {
	c.idleSince = time.Now()
	var drop []*h1Conn
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*h1Conn{}
	}
	conns := t.idle[addr]
	stale := 0
	for stale < len(conns) && c.idleSince.Sub(conns[stale].idleSince) >= t.idleTimeout {
		stale++
	}
	if len(conns)-stale >= t.maxIdle {
		stale = len(conns) - t.maxIdle + 1
	}
	if stale > 0 {
		drop = append(drop, conns[:stale]...)
		conns = append(conns[:0], conns[stale:]...)
	}
	t.idle[addr] = append(conns, c)
	t.mu.Unlock()
	for _, d := range drop {
		_ = d.conn.Close()
	}
}

// h1Body is an answer's body: read to its end, it gives the connection back
// to the pool; closed early or failed, it closes the connection.
type h1Body struct {
	body io.ReadCloser
	t    *h1Transport
	c    *h1Conn
	key  string
	ctx  context.Context
	stop func() bool
	keep bool        // the upstream did not ask to close the connection
	done atomic.Bool // finished: the connection is back in the pool or closed
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done.Load() {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.finish(b.keep)
	case err != nil:
		b.finish(false)
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.finish(false)
	return nil
}

// finish runs once, whether the body ends or is closed first (a client
// may close it from another goroutine while a read waits).
func (b *h1Body) finish(reuse bool) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	// stop reports false when the cancellation already ran: the
	// connection's deadline is spent.
	if b.stop() && reuse && b.c.br.Buffered() == 0 {
		b.t.put(b.key, b.c)
		return
	}
	_ = b.c.conn.Close()
}
