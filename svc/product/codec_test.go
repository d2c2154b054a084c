package product

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

func TestMemoCodec(t *testing.T) {
	t.Parallel()
	for _, inner := range []interface {
		Name() string
		Marshal(any) ([]byte, error)
		Unmarshal([]byte, any) error
	}{protoBinary{}, protoJSON{}} {
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
			if _, hit := c.memo[a]; !hit {
				t.Error("the answer was not memoized")
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
			for i := range memoMax + 10 {
				_, _ = c.Marshal(&productv1.ListProductsResponse{NextPageToken: string(rune('a' + i%26))})
			}
			if n := len(c.memo); n > memoMax {
				t.Errorf("memo holds %d encodings, max %d", n, memoMax)
			}
		})
	}
}
