package product

import (
	"bytes"
	"errors"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

// Cached answers (GetProduct, ListProducts) are immutable and the same
// pointer on every cache hit, so encoding them again on every call is
// wasted work: about a fifth of a cached GetProduct's CPU. memoCodec
// remembers the encoding of those two response types by identity. A new
// answer (after a write) is a new pointer, so nothing stale is ever sent.
type memoCodec struct {
	inner connect.Codec

	mu   sync.RWMutex
	memo map[proto.Message][]byte
}

// memoMax bounds the memo; past it, it starts again (the hot set is small).
const memoMax = 4096

func newMemoCodec(inner connect.Codec) *memoCodec {
	return &memoCodec{inner: inner, memo: make(map[proto.Message][]byte)}
}

func (c *memoCodec) Name() string { return c.inner.Name() }

func (c *memoCodec) Unmarshal(b []byte, m any) error { return c.inner.Unmarshal(b, m) }

func (c *memoCodec) Marshal(m any) ([]byte, error) {
	var key proto.Message
	switch msg := m.(type) {
	case *productv1.GetProductResponse:
		key = msg
	case *productv1.ListProductsResponse:
		key = msg
	default:
		return c.inner.Marshal(m)
	}
	c.mu.RLock()
	b, ok := c.memo[key]
	c.mu.RUnlock()
	if ok {
		// A copy: connect-go recycles the slice Marshal returns into its
		// buffer pool, which would overwrite the memo.
		return bytes.Clone(b), nil
	}
	b, err := c.inner.Marshal(m)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.memo) >= memoMax {
		clear(c.memo)
	}
	c.memo[key] = b
	c.mu.Unlock()
	return bytes.Clone(b), nil
}

// protoBinary and protoJSON are the standard Connect codecs, restated so
// they can be wrapped (connect-go does not export its own).
type protoBinary struct{}

func (protoBinary) Name() string { return "proto" }

func (protoBinary) Marshal(m any) ([]byte, error) {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil, errors.New("not a proto message")
	}
	return proto.Marshal(msg)
}

func (protoBinary) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return errors.New("not a proto message")
	}
	return proto.Unmarshal(b, msg)
}

type protoJSON struct{}

func (protoJSON) Name() string { return "json" }

func (protoJSON) Marshal(m any) ([]byte, error) {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil, errors.New("not a proto message")
	}
	return protojson.Marshal(msg)
}

func (protoJSON) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return errors.New("not a proto message")
	}
	if len(b) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, msg)
}

// codecOptions make the service's handlers use the memoizing codecs.
func codecOptions() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCodec(newMemoCodec(protoBinary{})),
		connect.WithCodec(newMemoCodec(protoJSON{})),
	}
}
