package paging_test

import (
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// cursor has the shape of every service's cursor: integers and strings.
type cursor struct {
	At     int64  `json:"a"`
	ID     string `json:"i"`
	Filter string `json:"f"`
}

// FuzzDecode: any token either decodes into a cursor that survives a
// round trip and holds no NUL, or is refused as invalid_argument.
func FuzzDecode(f *testing.F) {
	f.Add(paging.Encode(cursor{At: 1733400000000000, ID: "01JEXAMPLE", Filter: "paid"}))
	f.Add(paging.Encode(cursor{ID: "a\x00b"}))
	f.Add("eyJhIjoiMSJ9")        // {"a":"1"}: a string where a number goes
	f.Add("eyJpIjoiXHUwMDAwIn0") // {"i":"\u0000"}
	f.Add("not base64!")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		var c cursor
		err := paging.Decode(token, &c)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("Decode(%q) = %v, want invalid_argument", token, err)
			}
			return
		}
		if strings.ContainsRune(c.ID, 0) || strings.ContainsRune(c.Filter, 0) {
			t.Fatalf("Decode(%q) let a NUL through: %+v", token, c)
		}
		var again cursor
		if err := paging.Decode(paging.Encode(c), &again); err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}
