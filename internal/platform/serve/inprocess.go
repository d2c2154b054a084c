package serve

import (
	"net/http"
	"net/http/httptest"
)

// HandlerClient is an HTTP client that serves every request with h in this
// process: a Connect client on it calls a co-located service without a
// network hop. It buffers responses, so it suits unary calls only.
func HandlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h}}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}
