// Package carrierfake holds what the carrier fakes (upstest, fedextest)
// keep alike: the OAuth client-credentials tokens they issue with their
// expiries, the count of calls per route, and injected failures. Each fake
// keeps its own wire format (token endpoint, error bodies and codes) and
// embeds a *Gate, whose exported methods become the fake's.
package carrierfake

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Gate stands in front of a fake carrier API. It is safe for concurrent
// use and has its own lock, so a fake may call it while holding its own.
type Gate struct {
	now func() time.Time

	mu         sync.Mutex
	tokens     map[string]time.Time // token → expiry
	tokenCount int
	failLeft   int
	failStatus int
	calls      map[string]int // "METHOD /path" → count
}

// NewGate returns a gate judging token expiry by now.
func NewGate(now func() time.Time) *Gate {
	return &Gate{now: now, tokens: map[string]time.Time{}, calls: map[string]int{}}
}

// IssueToken records a new bearer token, named prefix-N for the Nth
// issued, valid until expires.
func (g *Gate) IssueToken(prefix string, expires time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokenCount++
	tok := fmt.Sprintf("%s-%d", prefix, g.tokenCount)
	g.tokens[tok] = expires
	return tok
}

// Authorized counts r as a call to its route and reports whether it bears
// a token issued and not yet expired.
func (g *Gate) Authorized(r *http.Request) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls[r.Method+" "+r.URL.Path]++
	exp, ok := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	return ok && g.now().Before(exp)
}

// Failure uses up one of the failures FailNext asked for and returns the
// status to answer with, or 0 when the call should go through.
func (g *Gate) Failure() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failLeft <= 0 {
		return 0
	}
	g.failLeft--
	return g.failStatus
}

// FailNext makes the next n API calls (not token requests) answer status.
func (g *Gate) FailNext(n, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failLeft, g.failStatus = n, status
}

// RevokeTokens invalidates every token issued so far, as if they expired.
func (g *Gate) RevokeTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.tokens)
}

// TokenFetches is how many tokens were issued.
func (g *Gate) TokenFetches() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tokenCount
}

// Calls is how many requests reached the API whose "METHOD /path" starts
// with prefix, e.g. "POST /ship/v1/shipments".
func (g *Gate) Calls(prefix string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for k, v := range g.calls {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}
