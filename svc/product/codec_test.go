package product

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/serve"
)

func TestMemoCodec(t *testing.T) {
	t.Parallel()
	for _, inner := range []interface {
		Name() string
		Marshal(any) ([]byte, error)
		Unmarshal([]byte, any) error
	}{protoBinary{}, serve.JSONCodec("json")} {
		t.Run(inner.Name(), func(t *testing.T) {
			t.Parallel()
			c := newMemoCodec(inner)
			a := &productv1.GetProductResponse{Product: &productv1.Product{Id: "a", Title: "Alpha"}}
			b := &productv1.GetProductResponse{Product: &productv1.Product{Id: "b", Title: "Beta"}}
			first, err := c.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			// The caller may recycle what Marshal returns (connect-go pools
			// it): scribbling over it must not reach the next caller.
			want := bytes.Clone(first)
			clear(first)
			again, _ := c.Marshal(a)
			if !bytes.Equal(again, want) {
				t.Errorf("memoized encoding was overwritten through a returned slice: %q", again)
			}
			if n := c.len(); n != 1 {
				t.Errorf("memo holds %d encodings after one answer, want 1", n)
			}
			other, _ := c.Marshal(b)
			if bytes.Equal(want, other) {
				t.Error("two different answers share an encoding")
			}
			var back productv1.GetProductResponse
			if err := c.Unmarshal(other, &back); err != nil || !proto.Equal(&back, b) {
				t.Errorf("round trip = %v, %v", &back, err)
			}
			// Requests and other messages are never memoized.
			req := &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "x"}}
			r1, _ := c.Marshal(req)
			req.Key = &productv1.GetProductRequest_Slug{Slug: "y"}
			r2, _ := c.Marshal(req)
			if bytes.Equal(r1, r2) {
				t.Error("a changed request came back with its old encoding")
			}
			// An answer's encoding is forgotten once the answer is freed.
			a, b = nil, nil
			for i := range 100 {
				_, _ = c.Marshal(&productv1.ListProductsResponse{NextPageToken: string(rune('a' + i%26))})
			}
			deadline := time.Now().Add(5 * time.Second)
			for c.len() > 0 && time.Now().Before(deadline) {
				runtime.GC() // cleanups run after the collection that frees their answer
				time.Sleep(time.Millisecond)
			}
			if n := c.len(); n > 0 {
				t.Errorf("memo holds %d encodings of freed answers", n)
			}
		})
	}
}

// The memo's hit, as a cached GetProduct makes it (JSON, 2 goroutines per
// core like the server's):
//
//	go test -run '^$' -bench MemoCodecHit -benchmem ./svc/product/
func BenchmarkMemoCodecHit(b *testing.B) {
	c := newMemoCodec(serve.JSONCodec("json"))
	res := &productv1.GetProductResponse{Product: &productv1.Product{Id: "p_1", Slug: "alpha", Title: "Alpha jacket",
		Description: "A jacket for every weather, with taped seams and a hood that stays up in the wind."}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Marshal(res); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// len is how many encodings the memo holds.
func (c *memoCodec) len() int { return c.get.len() + c.list.len() }

func (m *memo[T]) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}
