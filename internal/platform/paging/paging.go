// Package paging holds what every List RPC shares: page sizes (default 20,
// at most 100) and opaque page tokens, which carry a keyset position as
// URL-safe base64 of JSON.
package paging

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

const (
	// DefaultSize is the page size when a request asks for 0.
	DefaultSize = 20
	// MaxSize is the largest page; the protos validate it too.
	MaxSize = 100
)

// Size is the page size to use for a requested one.
func Size(requested int32) int {
	switch {
	case requested <= 0:
		return DefaultSize
	case requested > MaxSize:
		return MaxSize
	}
	return int(requested)
}

// Encode makes a page token of a cursor: a struct of strings and integers.
func Encode(cursor any) string {
	b, _ := json.Marshal(cursor) // plain structs of strings and integers
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a page token into cursor; a token not made by Encode is an
// errs.Invalid error a caller understands. Tokens are not signed: a caller
// can forge one, so the cursor's strings never hold a NUL (which PostgreSQL
// refuses in text) and callers check that the rest fits their query.
func Decode(token string, cursor any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil && bytes.Contains(b, []byte(`\u0000`)) {
		err = errNUL
	}
	if err == nil {
		err = json.Unmarshal(b, cursor)
	}
	if err != nil {
		return errs.Invalidf("page_token is not valid: pass next_page_token from a previous response unchanged")
	}
	return nil
}

var errNUL = errors.New("a NUL in a page token")
