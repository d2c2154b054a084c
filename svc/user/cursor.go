package user

import (
	"hash/fnv"
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
