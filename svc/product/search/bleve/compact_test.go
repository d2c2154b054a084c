package bleve

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// segments is the number of segments the index's searches read.
func (x *Index) segments(t *testing.T) int {
	t.Helper()
	adv, err := x.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return len(r.(*scorch.IndexSnapshot).Segments())
}

// TestCompactMergesSegmentsAndKeepsEveryDocument: documents indexed in
// several batches sit in several segments; Compact leaves one, with the
// same documents found the same way, deletions applied.
func TestCompactMergesSegmentsAndKeepsEveryDocument(t *testing.T) {
	ctx := context.Background()
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	// Each batch makes a segment, and Bleve merges some of them on its own
	// in the background: index until several stand side by side (at most
	// 99 documents, one page of results).
	batches := 0
	for ; batches < 6 || (x.segments(t) < 2 && batches < 10); batches++ {
		batch := batches
		var docs []search.Document
		for i := range 10 {
			n := batch*10 + i
			docs = append(docs, search.Document{ID: fmt.Sprintf("p%02d", n), Title: fmt.Sprintf("Harbor Jacket %d", n), Price: int64(1000 + n)})
		}
		if err := x.Index(ctx, docs...); err != nil {
			t.Fatal(err)
		}
	}
	if x.segments(t) < 2 {
		t.Fatalf("one segment after %d batches: nothing to compact", batches)
	}
	total := batches*10 - 1
	if err := x.Delete(ctx, "p07"); err != nil {
		t.Fatal(err)
	}
	ids := func() []string {
		t.Helper()
		res, err := x.Search(ctx, search.Query{Text: "jakcet", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		slices.Sort(out)
		return out
	}
	before := ids()
	if err := x.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if n := x.segments(t); n != 1 {
		t.Errorf("%d segments after Compact, want 1", n)
	}
	if after := ids(); !slices.Equal(before, after) || len(after) != total || slices.Contains(after, "p07") {
		t.Errorf("found %d documents after Compact, want the same %d as before, without p07", len(after), total)
	}
	if n, err := x.Count(ctx); err != nil || n != int64(total) {
		t.Errorf("Count = %d, %v; want %d", n, err, total)
	}
}
