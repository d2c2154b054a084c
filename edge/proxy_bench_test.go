package edge

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

// The proxy's hot path, end to end on loopback: a client with keep-alive
// connections calls a real edge server, which proxies to a real upstream
// server answering like a Connect unary call (a 900-byte JSON body with its
// Content-Length) or a gRPC one (a framed message and trailers). Client and
// upstream run in the benchmark's process, so ns/op and allocs/op include
// them; they are the same before and after a change to the edge.
//
//	go test -run '^$' -bench Proxy -benchmem -count 8 ./edge/ > new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
func BenchmarkProxy(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 900)
	jsonAnswer := append(append([]byte(`{"product":"`), body...), `"}`...)
	grpcAnswer := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(grpcAnswer[1:], uint32(len(body)))
	grpcAnswer = append(grpcAnswer, body...)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Content-Type") == "application/grpc" {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Trailer", "Grpc-Status")
			_, _ = w.Write(grpcAnswer)
			w.Header().Set("Grpc-Status", "0")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(jsonAnswer)))
		_, _ = w.Write(jsonAnswer)
	})
	target, err := url.Parse(servetest.Start(b, up))
	if err != nil {
		b.Fatal(err)
	}
	var h1, h2 http.Protocols
	h1.SetHTTP1(true)
	h2.SetUnencryptedHTTP2(true)
	clients := map[string]*http.Client{
		"h1":  {Transport: &http.Transport{Protocols: &h1, MaxIdleConnsPerHost: 64, DisableCompression: true}},
		"h2c": {Transport: &http.Transport{Protocols: &h2, DisableCompression: true}},
	}
	grpcRequest := []byte("\x00\x00\x00\x00\x28\x12\x26kestrel-classic-metal-sport-sunglasses")
	cases := []struct {
		name, client, contentType string
		request                   []byte
		wantBytes                 int
	}{
		{"ConnectJSON", "h1", "application/json", []byte(`{"slug":"kestrel-classic-metal-sport-sunglasses"}`), len(jsonAnswer)},
		{"gRPC", "h2c", "application/grpc", grpcRequest, len(grpcAnswer)},
	}
	const prefix = "/emporium.product.v1.ProductService/"
	for _, sampled := range []bool{false, true} {
		// The edge's tracer comes from the global provider when the edge is
		// built, so each sampling setting gets an edge of its own.
		sampler := sdktrace.ParentBased(sdktrace.NeverSample()) // serve's default without an exporter
		if sampled {
			sampler = sdktrace.AlwaysSample()
		}
		prev := otel.GetTracerProvider()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
		otel.SetTracerProvider(tp)
		h, err := New(b.Context(), Config{
			Routes: []Route{{Prefix: prefix, Targets: []*url.URL{target}}},
			Log:    logx.Discard(),
		})
		otel.SetTracerProvider(prev)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		edgeURL := servetest.Start(b, h) + prefix + "GetProduct"
		for _, c := range cases {
			name := c.name + "/sampled=" + strconv.FormatBool(sampled)
			b.Run(name, func(b *testing.B) {
				client := clients[c.client]
				b.ReportAllocs()
				b.SetParallelism(8) // 8 × GOMAXPROCS callers, as a loaded edge has
				cpu0 := processCPU(b)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, err := http.NewRequest(http.MethodPost, edgeURL, bytes.NewReader(c.request))
						if err != nil {
							b.Error(err)
							return
						}
						req.Header.Set("Content-Type", c.contentType)
						if c.contentType == "application/grpc" {
							req.Header.Set("Te", "trailers")
						}
						res, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						n, _ := io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK || n != int64(c.wantBytes) {
							b.Errorf("status %d, %d bytes; want 200, %d bytes", res.StatusCode, n, c.wantBytes)
							return
						}
						if c.contentType == "application/grpc" && res.Trailer.Get("Grpc-Status") != "0" {
							b.Errorf("grpc-status %q, want 0", res.Trailer.Get("Grpc-Status"))
							return
						}
					}
				})
				// CPU time per call (the client's, the edge's and the
				// upstream's together): on a machine shared with other work
				// it varies far less than the wall time.
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// processCPU is the user + system CPU time this process has used, in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
