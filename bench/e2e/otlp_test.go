package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// span is what the test keeps of a received span.
type span struct {
	Service        string // the process's service.name
	Name           string
	TraceID        string
	SpanID, Parent string
	DBSystem       string // db.system.name, for database and Redis spans
}

// otlpReceiver is an OTLP/HTTP endpoint (protobuf encoding, as the Go
// exporter sends): traces are decoded and kept, metrics acknowledged.
type otlpReceiver struct {
	url   string
	mu    sync.Mutex
	spans []span
}

func startOTLP(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var in coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &in)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var got []span
		for _, rs := range in.GetResourceSpans() {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					sp := span{Service: service, Name: s.GetName(), TraceID: hexOf(s.GetTraceId()),
						SpanID: hexOf(s.GetSpanId()), Parent: hexOf(s.GetParentSpanId())}
					for _, a := range s.GetAttributes() {
						if a.GetKey() == "db.system.name" {
							sp.DBSystem = a.GetValue().GetStringValue()
						}
					}
					got = append(got, sp)
				}
			}
		}
		r.mu.Lock()
		r.spans = append(r.spans, got...)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(mustMarshal(&coltracepb.ExportTraceServiceResponse{}))
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// trace returns the spans of trace id received so far.
func (r *otlpReceiver) trace(id string) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for _, s := range r.spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out
}

// find returns the spans received so far that match.
func (r *otlpReceiver) find(match func(span) bool) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for _, s := range r.spans {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
