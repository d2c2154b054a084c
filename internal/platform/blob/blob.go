// Package blob is the port to a store of opaque files by key, such as
// shipping labels, with a local-directory adapter (Dir).
//
// Keys are slash-separated paths of safe segments ("labels/2026/12/sh_1.pdf"):
// each segment is letters, digits, '.', '_' and '-', and is neither "." nor
// "..". Every adapter refuses other keys with errs.Invalid, so a key can
// never reach outside the store.
package blob

import (
	"context"
	"strings"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Store keeps blobs by key. Implementations are safe for concurrent use.
type Store interface {
	// Put writes data under key, replacing any blob there. A reader sees the
	// old blob or the new one, never a mix.
	Put(ctx context.Context, key, contentType string, data []byte) error
	// Get reads the blob under key; errs.NotFound when there is none.
	Get(ctx context.Context, key string) (data []byte, contentType string, err error)
	// Delete removes the blob under key; deleting a missing blob is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// MaxKeyLen bounds a key's length in bytes.
const MaxKeyLen = 512

// CheckKey reports why key is not a valid blob key, as errs.Invalid.
func CheckKey(key string) error {
	if key == "" {
		return errs.Invalidf("blob key is empty")
	}
	if len(key) > MaxKeyLen {
		return errs.Invalidf("blob key is %d bytes long, over the limit of %d", len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return errs.Invalidf("blob key %q has an empty segment (leading, trailing or double '/')", key)
		case ".", "..":
			return errs.Invalidf("blob key %q has a %q segment", key, seg)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return errs.Invalidf("blob key %q: %q is not allowed (use letters, digits, '.', '_', '-' and '/')", key, r)
			}
		}
	}
	return nil
}

// checkContentType refuses content types that could not round-trip.
func checkContentType(ct string) error {
	if ct == "" || len(ct) > 255 {
		return errs.Invalidf("blob content type must be 1 to 255 bytes, e.g. \"application/pdf\"")
	}
	for _, r := range ct {
		if r < 0x20 || r > 0x7e {
			return errs.Invalidf("blob content type %q has a character other than printable ASCII", ct)
		}
	}
	return nil
}
