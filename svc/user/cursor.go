package user

import (
	"encoding/base64"
	"encoding/json"
	"hash/fnv"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// userCursor is the keyset position after the last account of a ListUsers
// page (newest first: created_at, then id). It travels as an opaque,
// URL-safe page_token bound to the query that made it.
type userCursor struct {
	Created int64  `json:"c"`
	ID      string `json:"id"`
	Query   uint64 `json:"q"`
}

func queryHash(query string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(query))
	return h.Sum64()
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v) // plain structs of strings and integers
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(token string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return errs.Invalidf("page_token is not valid: pass next_page_token from a previous response unchanged")
	}
	return nil
}
