// Package analytics is the search analytics port of the product service:
// what shoppers searched for (query events) and what they then did with the
// results (clicks, add-to-cart, purchases, joined by the search id), and
// the figures staff read from them (top queries, zero-result queries,
// queries with clicks but no purchases, click-through and conversion
// rates). Its adapters are held to one contract suite
// (package analytics/analyticstest): SQL in the product service's own
// database (package analytics/sqlstore, the embedded default).
//
// Recording goes through a Recorder, which buffers events and writes them
// in batches, so that analytics never slows or fails a search.
package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is what an event records.
type Kind int

const (
	// Search is one SearchProducts answer.
	Search Kind = 1
	// Click is a shopper opening a product from a search's results.
	Click Kind = 2
	// AddToCart is a product from a search's results put in a cart.
	AddToCart Kind = 3
	// Purchase is a product from a search's results in a paid order.
	Purchase Kind = 4
)

func (k Kind) String() string {
	switch k {
	case Search:
		return "search"
	case Click:
		return "click"
	case AddToCart:
		return "add_to_cart"
	case Purchase:
		return "purchase"
	}
	return "unknown"
}

// Event is one thing to record. A Search event carries the query's fields;
// the others carry the search id they follow and the product concerned.
// Events hold no personal data: Session is already a hash (SessionKey).
type Event struct {
	Kind     Kind
	SearchID string
	At       time.Time
	// Search events only.
	Query   string // normalised (Normalize)
	Filters string // e.g. "brand=Northwind category=jackets"
	Hits    int64
	Latency time.Duration
	Session string // SessionKey's hash, never a user id in clear
	// Click, AddToCart and Purchase events only.
	ProductID string
}

// Range is a half-open time range [From, To). A zero From has no start, a
// zero To no end.
type Range struct {
	From, To time.Time
}

// Report names a list of queries.
type Report int

const (
	// TopQueries are the most searched queries.
	TopQueries Report = iota + 1
	// ZeroResultQueries are queries searched that found nothing, most
	// searched first: what shoppers can't find.
	ZeroResultQueries
	// ClickedNotBought are queries whose results were clicked but from
	// which nothing was bought, most clicked first.
	ClickedNotBought
)

// ListQuery asks for one page of a Report.
type ListQuery struct {
	Report Report
	Range  Range
	Offset int
	Limit  int
}

// QueryStat is the figures of one normalised query over a range. Clicks,
// AddsToCart and Purchases count searches that led to at least one.
type QueryStat struct {
	Query       string
	Searches    int64
	ZeroResults int64 // searches that found nothing
	Clicks      int64
	AddsToCart  int64
	Purchases   int64
	LastSearch  time.Time
}

// Summary is the figures of every search over a range.
type Summary struct {
	Searches    int64
	ZeroResults int64
	Clicks      int64 // searches with at least one click
	AddsToCart  int64 // searches with at least one add-to-cart
	Purchases   int64 // searches with at least one purchase
}

// ClickThroughRate is the share of searches with a click, 0 without searches.
func (s Summary) ClickThroughRate() float64 { return ratio(s.Clicks, s.Searches) }

// ConversionRate is the share of searches with a purchase, 0 without searches.
func (s Summary) ConversionRate() float64 { return ratio(s.Purchases, s.Searches) }

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// Store is the port: every adapter records events and answers reports.
type Store interface {
	// Record writes events. Recording the same Click, AddToCart or
	// Purchase (search id, kind, product) or Search (search id) twice
	// counts it once. Events of a search id never recorded are kept but
	// count in no report.
	Record(ctx context.Context, events []Event) error
	// Queries returns one page of a report, ordered by its measure
	// (searches, or clicks for ClickedNotBought) descending, then query.
	Queries(ctx context.Context, q ListQuery) ([]QueryStat, error)
	// Summarize returns the figures of the searches in r; actions count
	// towards the search they follow, whenever they happened.
	Summarize(ctx context.Context, r Range) (Summary, error)
	// DeleteBefore removes what was recorded before t (retention).
	DeleteBefore(ctx context.Context, t time.Time) error
}

// ErrUnavailable is wrapped by an adapter's errors when its backend cannot
// answer for now.
var ErrUnavailable = errors.New("search analytics backend unavailable")

// MaxQueryLen bounds a normalised query; longer ones are cut (a 10 kB
// query is stored as its first MaxQueryLen bytes, on a rune boundary).
const MaxQueryLen = 200

// Normalize makes equal queries compare equal: lower case, spaces and
// punctuation between words collapsed into one space, at most MaxQueryLen
// bytes. Letters and digits of any script are kept.
func Normalize(q string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(q) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			sep := space && b.Len() > 0
			n := utf8.RuneLen(r)
			if sep {
				n++
			}
			if b.Len()+n > MaxQueryLen {
				break
			}
			if sep {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

// SessionKey turns what identifies a shopper's session (a signed-in user's
// id, or a random key the client keeps) into the anonymous key events carry:
// a salted SHA-256, of which 16 bytes are kept. Salt is the deployment's
// secret, so the key can't be matched back to a user id by hashing ids.
func SessionKey(salt, identity string) string {
	if identity == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte("emporium search session\x00"))
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(identity))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
