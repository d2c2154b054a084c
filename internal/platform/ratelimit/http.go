package ratelimit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Headers writes the IETF draft "RateLimit header fields for HTTP" fields
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds, rounded
// up) and, when d is a refusal, Retry-After (seconds, rounded up, ≥ 1).
// When the bucket state is unknown (Remaining < 0, see Guarded) it writes
// only Retry-After, and only for a refusal.
func Headers(h http.Header, d Decision) {
	// The edge writes these on every limited request: the keys are stored
	// in their canonical form, made once (Header.Set would canonicalise
	// "RateLimit-…" into a new string each time), and the three values
	// share one allocation.
	if d.Remaining >= 0 {
		v := [...]string{strconv.Itoa(d.Limit), strconv.Itoa(d.Remaining), strconv.FormatInt(ceilSeconds(d.Reset), 10)}
		vals := v[:]
		h[headerLimit] = vals[0:1:1]
		h[headerRemaining] = vals[1:2:2]
		h[headerReset] = vals[2:3:3]
	}
	if !d.Allowed {
		h[headerRetryAfter] = []string{strconv.FormatInt(retryAfterSeconds(d), 10)}
	}
}

// The header fields' canonical keys (RateLimit-Limit is Ratelimit-Limit in
// an http.Header).
var (
	headerLimit      = http.CanonicalHeaderKey("RateLimit-Limit")
	headerRemaining  = http.CanonicalHeaderKey("RateLimit-Remaining")
	headerReset      = http.CanonicalHeaderKey("RateLimit-Reset")
	headerRetryAfter = http.CanonicalHeaderKey("Retry-After")
)

// HasHeaders reports whether h already carries a limit's answer
// (RateLimit-Limit or Retry-After), without allocating.
func HasHeaders(h http.Header) bool {
	return len(h[headerLimit]) > 0 || len(h[headerRetryAfter]) > 0
}

// Refuse writes the refusal of d: its headers, status 429 and a Connect
// error body {"code":"resource_exhausted","message":"rate limit exceeded,
// retry in Ns"}. Connect clients read the code from the body; gRPC clients
// see 429 as UNAVAILABLE.
func Refuse(w http.ResponseWriter, d Decision) {
	d.Allowed = false
	secs := retryAfterSeconds(d)
	body, _ := json.Marshal(connectError{
		Code:    "resource_exhausted",
		Message: fmt.Sprintf("rate limit exceeded, retry in %ds", secs),
	})
	h := w.Header()
	Headers(h, d)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}

type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func retryAfterSeconds(d Decision) int64 { return max(1, ceilSeconds(d.RetryAfter)) }

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
