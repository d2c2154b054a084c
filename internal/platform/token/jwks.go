package token

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// JWK is an Ed25519 public key as a JSON Web Key (RFC 7517, RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKSet is a JWK Set document.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

func publicJWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(pub), Kid: kid, Alg: alg, Use: "sig"}
}

// publicKey returns the key j describes if it is an Ed25519 signing key for
// EdDSA, and an error otherwise.
func (j JWK) publicKey() (ed25519.PublicKey, error) {
	switch {
	case j.Kty != "OKP" || j.Crv != "Ed25519":
		return nil, fmt.Errorf("key %q: kty %q crv %q is not an Ed25519 key", j.Kid, j.Kty, j.Crv)
	case j.Alg != "" && j.Alg != alg:
		return nil, fmt.Errorf("key %q: alg %q is not %s", j.Kid, j.Alg, alg)
	case j.Use != "" && j.Use != "sig":
		return nil, fmt.Errorf("key %q: use %q is not sig", j.Kid, j.Use)
	case j.Kid == "":
		return nil, errors.New("key without a kid")
	}
	x, err := b64.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %q: x is not a base64url Ed25519 public key", j.Kid)
	}
	return ed25519.PublicKey(x), nil
}

// JWKSHandler serves the public half of every key in keys as a JWK Set,
// with Cache-Control max-age=300 and an ETag (answering If-None-Match with
// 304). The edge mounts it at /.well-known/jwks.json. It follows Rotate and
// Retire at once; verifiers see the change within their cache age.
func JWKSHandler(keys *KeySet) http.Handler {
	return &jwksHandler{keys: keys}
}

type jwksHandler struct {
	keys *KeySet

	mu      sync.Mutex
	version uint64
	body    []byte
	etag    string
}

func (h *jwksHandler) document() (body []byte, etag string) {
	keys, version := h.keys.snapshot()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.body != nil && h.version == version {
		return h.body, h.etag
	}
	set := JWKSet{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, publicJWK(k.ID, k.Public))
	}
	body, err := json.Marshal(set)
	if err != nil { // cannot happen: plain strings
		panic(err)
	}
	sum := sha256.Sum256(body)
	h.version, h.body, h.etag = version, body, `"`+b64.EncodeToString(sum[:16])+`"`
	return h.body, h.etag
}

func (h *jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, etag := h.document()
	hd := w.Header()
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// etagMatches implements If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
