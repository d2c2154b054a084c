// Package token issues and checks the credentials of signed-in users:
//
//   - access tokens: short-lived JWTs signed with Ed25519 (alg "EdDSA") by a
//     Signer, published as a JWK Set by JWKSHandler and checked by a Verifier
//     that every service runs itself (so a request that bypasses the edge
//     gets nothing);
//   - refresh tokens: opaque random strings, stored only as SHA-256 hashes,
//     rotated on every use, with reuse detection that ends the whole login
//     session (Refresher over a Store: NewMemoryStore or NewRedisStore).
//
// Keys rotate without signing anybody out: a KeySet has one active key that
// signs and keeps older keys published until every token they signed has
// expired (Retire, or RetireInactiveSince once the access-token TTL has
// passed).
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Key is one Ed25519 key pair. Private is nil for a key that can only verify.
type Key struct {
	ID      string // kid: the RFC 7638 thumbprint of the public key
	Public  ed25519.PublicKey
	Private ed25519.PrivateKey
	Created time.Time
	// Deactivated is when the key stopped signing (zero while it is active
	// or has never been active).
	Deactivated time.Time
}

// GenerateKey makes a fresh signing key.
func GenerateKey() (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token: generate key: %w", err)
	}
	return &Key{ID: Thumbprint(pub), Public: pub, Private: priv, Created: time.Now().UTC().Truncate(time.Second)}, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of an
// Ed25519 public key; keys use it as their kid.
func Thumbprint(pub ed25519.PublicKey) string {
	// Members in lexicographic order, no whitespace (RFC 7638 §3.2, RFC 8037 §2).
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`))
	return b64.EncodeToString(sum[:])
}

var b64 = base64.RawURLEncoding

func (k *Key) check() error {
	if k == nil {
		return errors.New("token: nil key")
	}
	if k.ID == "" {
		return errors.New("token: key without an id")
	}
	if len(k.Public) != ed25519.PublicKeySize {
		return fmt.Errorf("token: key %s: public key has %d bytes, want %d", k.ID, len(k.Public), ed25519.PublicKeySize)
	}
	if k.Private != nil {
		if len(k.Private) != ed25519.PrivateKeySize {
			return fmt.Errorf("token: key %s: private key has %d bytes, want %d", k.ID, len(k.Private), ed25519.PrivateKeySize)
		}
		if !k.Public.Equal(k.Private.Public()) {
			return fmt.Errorf("token: key %s: public key does not match private key", k.ID)
		}
	}
	return nil
}

// KeySet holds the signing keys: one active key signs, the others stay
// published for verification. It is safe for concurrent use. A KeySet from
// LoadKeySet writes every change (Add, Rotate, Retire…) back to its file
// before the change takes effect.
type KeySet struct {
	mu      sync.RWMutex
	keys    []*Key // active first, then the rest, newest first
	path    string
	version uint64 // bumped on every change; JWKSHandler caches by it
}

// NewKeySet returns a set whose active key is active; others are published
// for verification only.
func NewKeySet(active *Key, others ...*Key) (*KeySet, error) {
	ks := &KeySet{}
	keys := append([]*Key{active}, others...)
	if err := validateSet(keys); err != nil {
		return nil, err
	}
	ks.keys = cloneKeys(keys)
	ks.keys[0].Deactivated = time.Time{}
	sortRest(ks.keys)
	return ks, nil
}

func validateSet(keys []*Key) error {
	if len(keys) == 0 || keys[0] == nil || keys[0].Private == nil {
		return errors.New("token: the active key must have a private key")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return err
		}
		if seen[k.ID] {
			return fmt.Errorf("token: duplicate key id %s", k.ID)
		}
		seen[k.ID] = true
	}
	return nil
}

func cloneKeys(keys []*Key) []*Key {
	out := make([]*Key, len(keys))
	for i, k := range keys {
		c := *k
		out[i] = &c
	}
	return out
}

// sortRest orders every key but the active one newest first.
func sortRest(keys []*Key) {
	if len(keys) > 1 {
		slices.SortStableFunc(keys[1:], func(a, b *Key) int { return b.Created.Compare(a.Created) })
	}
}

// Active returns a copy of the key that signs.
func (ks *KeySet) Active() Key {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return *ks.keys[0]
}

// Keys returns copies of every key, the active one first.
func (ks *KeySet) Keys() []Key {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := make([]Key, len(ks.keys))
	for i, k := range ks.keys {
		out[i] = *k
	}
	return out
}

// publicKey returns the public key of kid.
func (ks *KeySet) publicKey(kid string) (ed25519.PublicKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.ID == kid {
			return k.Public, true
		}
	}
	return nil, false
}

func (ks *KeySet) signingKey() (kid string, priv ed25519.PrivateKey) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.keys[0].ID, ks.keys[0].Private
}

// update applies change to a copy of the keys, persists the copy when the
// set has a file, and only then makes it current.
func (ks *KeySet) update(change func(keys []*Key) ([]*Key, error)) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	next, err := change(cloneKeys(ks.keys))
	if err != nil {
		return err
	}
	if err := validateSet(next); err != nil {
		return err
	}
	sortRest(next)
	if ks.path != "" {
		if err := writeKeyFile(ks.path, next); err != nil {
			return err
		}
	}
	ks.keys = next
	ks.version++
	return nil
}

// Add publishes key for verification without signing with it yet: publish a
// new key a JWKS refresh interval before Rotate to it and no verifier ever
// meets its kid unannounced.
func (ks *KeySet) Add(key *Key) error {
	if err := key.check(); err != nil {
		return err
	}
	return ks.update(func(keys []*Key) ([]*Key, error) {
		for _, k := range keys {
			if k.ID == key.ID {
				return nil, errs.Conflictf("key %s is already in the set", key.ID)
			}
		}
		c := *key
		return append(keys, &c), nil
	})
}

// Rotate makes newKey the signing key. The previous active key stays
// published (for verification) until it is retired. newKey may already be in
// the set (see Add), in which case it must carry its private key.
func (ks *KeySet) Rotate(newKey *Key) error {
	if err := newKey.check(); err != nil {
		return err
	}
	if newKey.Private == nil {
		return errors.New("token: rotate: the new key must have a private key")
	}
	now := time.Now().UTC().Truncate(time.Second)
	return ks.update(func(keys []*Key) ([]*Key, error) {
		if keys[0].ID == newKey.ID {
			return nil, errs.Conflictf("key %s is already active", newKey.ID)
		}
		keys[0].Deactivated = now
		rest := slices.DeleteFunc(keys, func(k *Key) bool { return k.ID == newKey.ID })
		c := *newKey
		c.Deactivated = time.Time{}
		return append([]*Key{&c}, rest...), nil
	})
}

// Retire stops publishing kid: tokens it signed no longer verify. Retire a
// key only once every token it signed has expired (its Deactivated time plus
// the access-token TTL plus the verifiers' leeway and JWKS cache age).
func (ks *KeySet) Retire(kid string) error {
	return ks.update(func(keys []*Key) ([]*Key, error) {
		if keys[0].ID == kid {
			return nil, errs.FailedPreconditionf("key %s is active: rotate to a new key before retiring it", kid)
		}
		i := slices.IndexFunc(keys, func(k *Key) bool { return k.ID == kid })
		if i < 0 {
			return nil, errs.NotFoundf("no key %s in the set", kid)
		}
		return slices.Delete(keys, i, i+1), nil
	})
}

// RetireInactiveSince retires every key that stopped signing before cutoff,
// typically now minus (access-token TTL + leeway + JWKS cache age). Keys
// added with Add and never active are kept. It returns the retired kids.
func (ks *KeySet) RetireInactiveSince(cutoff time.Time) ([]string, error) {
	var retired []string
	err := ks.update(func(keys []*Key) ([]*Key, error) {
		retired = nil
		return slices.DeleteFunc(keys, func(k *Key) bool {
			if !k.Deactivated.IsZero() && k.Deactivated.Before(cutoff) {
				retired = append(retired, k.ID)
				return true
			}
			return false
		}), nil
	})
	return retired, err
}

func (ks *KeySet) snapshot() (keys []Key, version uint64) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	keys = make([]Key, len(ks.keys))
	for i, k := range ks.keys {
		keys[i] = *k
	}
	return keys, ks.version
}

// Key file: a JWK Set whose keys carry their private part ("d", RFC 8037) and
// bookkeeping times, plus the kid of the active key.
type keyFile struct {
	Active string    `json:"active"`
	Keys   []fileKey `json:"keys"`
}

type fileKey struct {
	JWK
	D           string     `json:"d,omitempty"`
	Created     time.Time  `json:"created"`
	Deactivated *time.Time `json:"deactivated,omitempty"`
}

// MarshalKeys encodes keys (the active one first) in the key-file format,
// private parts included: treat the result as a secret.
func MarshalKeys(keys []*Key) ([]byte, error) {
	if err := validateSet(keys); err != nil {
		return nil, err
	}
	f := keyFile{Active: keys[0].ID}
	for _, k := range keys {
		fk := fileKey{JWK: publicJWK(k.ID, k.Public), Created: k.Created.UTC()}
		if k.Private != nil {
			fk.D = b64.EncodeToString(k.Private.Seed())
		}
		if !k.Deactivated.IsZero() {
			d := k.Deactivated.UTC()
			fk.Deactivated = &d
		}
		f.Keys = append(f.Keys, fk)
	}
	return json.MarshalIndent(f, "", "  ")
}

// ParseKeys decodes the key-file format, active key first.
func ParseKeys(data []byte) ([]*Key, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	var keys []*Key
	for i, fk := range f.Keys {
		pub, err := fk.JWK.publicKey()
		if err != nil {
			return nil, fmt.Errorf("token: key file: key %d: %w", i, err)
		}
		k := &Key{ID: fk.Kid, Public: pub, Created: fk.Created}
		if fk.Deactivated != nil {
			k.Deactivated = *fk.Deactivated
		}
		if fk.D != "" {
			seed, err := b64.DecodeString(fk.D)
			if err != nil || len(seed) != ed25519.SeedSize {
				return nil, fmt.Errorf("token: key file: key %s: bad private key", fk.Kid)
			}
			k.Private = ed25519.NewKeyFromSeed(seed)
		}
		if k.ID == f.Active {
			keys = append([]*Key{k}, keys...)
		} else {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 || keys[0].ID != f.Active {
		return nil, fmt.Errorf("token: key file: active key %q is not among its keys", f.Active)
	}
	if err := validateSet(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// LoadKeySet reads the key set in path, creating the file (mode 0600, and
// its directory, mode 0700) with a fresh key when it does not exist, so that
// `emporium dev` keeps its keys, and signed-in users, across restarts. The
// returned set writes every later change back to path.
//
// When several processes race to create the file, one wins and the others
// load its keys.
func LoadKeySet(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err = createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token: load keys: %w", err)
	}
	keys, err := ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	ks, err := NewKeySet(keys[0], keys[1:]...)
	if err != nil {
		return nil, err
	}
	ks.path = path
	return ks, nil
}

// Save writes the set to path (mode 0600), replacing the file atomically.
func (ks *KeySet) Save(path string) error {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return writeKeyFile(path, ks.keys)
}

func createKeyFile(path string) ([]byte, error) {
	k, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	data, err := MarshalKeys([]*Key{k})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	// Link fails if path appeared meanwhile: then another process won the
	// race and its keys are the ones to use.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return os.ReadFile(path)
		}
		return nil, err
	}
	return data, nil
}

func writeKeyFile(path string, keys []*Key) error {
	data, err := MarshalKeys(keys)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("token: save keys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("token: save keys: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file beside path (os.CreateTemp makes it
// mode 0600) and syncs it.
func writeTemp(path string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return "", err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		return "", err
	}
	return f.Name(), f.Sync()
}
