package bleve

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/svc/product/search"
)

func TestOpenRefusesOtherMapping(t *testing.T) {
	path := t.TempDir()
	x, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := x.idx.SetInternal([]byte(mappingVersionKey), []byte("emporium-catalog-v0")); err != nil {
		t.Fatalf("SetInternal: %v", err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if y, err := Open(path); !errors.Is(err, ErrMappingChanged) {
		if err == nil {
			_ = y.Close()
		}
		t.Fatalf("Open of an index with another mapping: err = %v, want ErrMappingChanged", err)
	}
}

// TestOpenCurrentReplacesAnIndexOfAnotherMapping: an index an older
// version built is replaced by an empty one with today's mapping, with the
// staff's synonyms; an index of today's mapping is opened as it is.
func TestOpenCurrentReplacesAnIndexOfAnotherMapping(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir()
	x, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rules := []string{"hoodie, sweatshirt"}
	if err := x.SetSynonyms(ctx, rules); err != nil {
		t.Fatal(err)
	}
	if err := x.Index(ctx, search.Document{ID: "p1", Title: "Harbor Hoodie", Price: 4200}); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// Today's mapping: kept as it is.
	x, replaced, err := OpenCurrent(path)
	if err != nil || replaced {
		t.Fatalf("OpenCurrent of a current index: replaced %v, %v; want it opened as it is", replaced, err)
	}
	if n, err := x.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want the 1 document kept", n, err)
	}
	if err := x.idx.SetInternal([]byte(mappingVersionKey), []byte("emporium-catalog-v0")); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// An older mapping: replaced, synonyms kept, documents to index again.
	x, replaced, err = OpenCurrent(path)
	if err != nil || !replaced {
		t.Fatalf("OpenCurrent of an index of another mapping: replaced %v, %v; want replaced", replaced, err)
	}
	defer x.Close()
	if n, err := x.Count(ctx); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want an empty index", n, err)
	}
	if got, err := x.Synonyms(ctx); err != nil || !slices.Equal(got, rules) {
		t.Errorf("Synonyms = %v, %v; want %v kept", got, err, rules)
	}
	v, err := x.idx.GetInternal([]byte(mappingVersionKey))
	if err != nil || string(v) != mappingVersion {
		t.Errorf("mapping version %q, %v; want %q", v, err, mappingVersion)
	}
}

func TestFuzziness(t *testing.T) {
	tests := []struct{ runes, want int }{
		{1, 0}, {3, 0}, {4, 1}, {7, 1}, {8, 2}, {20, 2}, {64, 2}, {65, 0},
	}
	for _, tt := range tests {
		if got := fuzziness(tt.runes); got != tt.want {
			t.Errorf("fuzziness(%d) = %d, want %d", tt.runes, got, tt.want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	got := analyze(x.analyzer, "The DOWN Jackets for Levi's hoodies, jackets  ÉTÉ")
	want := []word{
		{term: "down", typed: "down", runes: 4},
		{term: "jacket", typed: "jackets", runes: 7},
		{term: "levi", typed: "levi's", runes: 6},
		{term: "hoody", typed: "hoodies", runes: 7},
		{term: "été", typed: "été", runes: 3},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(word{})); diff != "" {
		t.Errorf("analyze mismatch (-want +got):\n%s", diff)
	}
}

func TestOSADistance(t *testing.T) {
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"jacket", "jacket", 2, 0},
		{"jakcet", "jacket", 1, 1},        // a transposition is one edit
		{"waterprof", "waterproof", 2, 1}, // one letter missing
		{"watreproff", "waterproof", 2, 2},
		{"jacket", "jackets", 1, 1}, // a tail
		{"jack", "jackets", 2, 3},   // a tail longer than max
		{"cap", "camp", 1, 1},
		{"sneekers", "sneakers", 2, 1},
		{"hoodie", "hoody", 2, 2},
		{"leather", "weather", 1, 1},
		{"abcdef", "badcfe", 2, 3}, // three transpositions
		{"été", "ete", 2, 2},       // runes, not bytes
		{"", "ab", 2, 2},
		{"ab", "", 1, 2},
	}
	var s osaScratch
	for _, tt := range tests {
		if got := s.distance(tt.a, tt.b, tt.max); got != tt.want {
			t.Errorf("distance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.max, got, tt.want)
		}
	}
}
