package paging

import (
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

func TestSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[int32]int{-5: 20, 0: 20, 1: 1, 20: 20, 100: 100, 101: 100} {
		if got := Size(in); got != want {
			t.Errorf("Size(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	type cursor struct {
		At int64  `json:"a"`
		ID string `json:"id"`
	}
	tok := Encode(cursor{At: 42, ID: "x/y"})
	var got cursor
	if err := Decode(tok, &got); err != nil || got != (cursor{At: 42, ID: "x/y"}) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for _, bad := range []string{"not base64!", "bm90IGpzb24", Encode("a string")} {
		if err := Decode(bad, &got); !errs.Is(err, errs.Invalid) {
			t.Errorf("Decode(%q) = %v, want an invalid-argument error", bad, err)
		}
	}
}
