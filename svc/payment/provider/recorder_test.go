package provider

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

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
