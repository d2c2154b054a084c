package user

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// argon2id parameters for new hashes: OWASP's first recommendation
// (m=19 MiB, t=2, p=1). Stored hashes carry their own parameters, so these
// can be raised later; old hashes still verify.
var defaultParams = argonParams{memory: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// Bounds on parameters read back from a stored hash, so a corrupt or
	// planted row cannot make one verification take gigabytes or minutes.
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	maxThreads   = 16

	// hashWait is the longest a request queues for a hashing slot.
	hashWait = 10 * time.Second

	minPasswordLen = 12
	maxPasswordLen = 128
)

// dummyHash is verified against when there is no real hash to check
// (unknown email, account without a password), so such a check costs as much
// as a real one and timing reveals nothing. Its password is random and lost.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$z0bXIAS2QOg3vja2aTW8Zg$mHxDjUS4xhvoIqpiLsbSMQTbGRpWJYV87gRsfGpbQRA"

var b64 = base64.RawStdEncoding // PHC strings use unpadded standard base64

type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// phcPrefix is how every hash made with defaultParams starts.
func (p argonParams) phcPrefix() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.memory, p.time, p.threads)
}

func encodeHash(password string, p argonParams, salt []byte) string {
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, keyLen)
	return p.phcPrefix() + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

// parseHash reads a PHC argon2id string.
func parseHash(encoded string) (p argonParams, salt, key []byte, err error) {
	bad := func(why string) (argonParams, []byte, []byte, error) {
		return argonParams{}, nil, nil, fmt.Errorf("password hash: %s", why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not a PHC argon2id string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported argon2 version " + parts[2])
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + kv)
		}
		switch k {
		case "m":
			p.memory, seen[0] = uint32(n), true
		case "t":
			p.time, seen[1] = uint32(n), true
		case "p":
			if n > maxThreads {
				return bad("parameter " + kv)
			}
			p.threads, seen[2] = uint8(n), true
		default:
			return bad("parameter " + kv)
		}
	}
	switch {
	case seen != [3]bool{true, true, true}:
		return bad("missing parameters")
	case p.threads < 1, p.time < 1 || p.time > maxTime, p.memory < 8*uint32(p.threads) || p.memory > maxMemoryKiB:
		return bad("parameters out of range")
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return bad("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return bad("key")
	}
	return p, salt, key, nil
}

// hasher runs argon2id with at most cap(sem) hashes at once: each takes
// memory (19 MiB) and a core for tens of milliseconds, so a flood of logins
// queues here instead of exhausting the process.
type hasher struct {
	params argonParams
	sem    chan struct{}
	wait   time.Duration // how long a hash queues for a slot; hashWait
	// running and peak count hashes in progress, for tests.
	running atomic.Int64
	peak    atomic.Int64
}

func newHasher(concurrency int) *hasher {
	return &hasher{params: defaultParams, sem: make(chan struct{}, concurrency), wait: hashWait}
}

func (h *hasher) acquire(ctx context.Context) error {
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errs.Unavailablef("the server is busy checking passwords; try again in a moment")
	}
	n := h.running.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

func (h *hasher) release() {
	h.running.Add(-1)
	<-h.sem
}

// hash returns the PHC string of password with a fresh random salt.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return encodeHash(password, h.params, salt), nil
}

// verify reports whether password matches encoded, in constant time. An
// empty or unreadable encoded hash never matches, but costs one hash all the
// same.
func (h *hasher) verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	valid := err == nil
	if !valid {
		p, salt, key, _ = parseHash(dummyHash)
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1 && valid, nil
}

// checkPolicy applies the password rules of NIST SP 800-63B: length, not a
// known breached password, not derived from the account's email, not one
// character repeated. No composition rules.
func checkPolicy(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return errs.Invalidf("password must be at least %d characters long", minPasswordLen)
	case n > maxPasswordLen:
		return errs.Invalidf("password must be at most %d characters long", maxPasswordLen)
	}
	lower := strings.ToLower(password)
	if breached[lower] {
		return errs.Invalidf("this password appears in lists of breached passwords; choose another")
	}
	if local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@"); ok {
		base, _, _ := strings.Cut(local, "+") // alice+shop@… → alice as well
		for _, part := range []string{local, base} {
			// Very short local parts ("al") would forbid too much.
			if utf8.RuneCountInString(part) >= 4 && strings.Contains(lower, part) {
				return errs.Invalidf("password must not contain your email address")
			}
		}
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Trim(password, string(first)) == "" {
		return errs.Invalidf("password must not be a single character repeated")
	}
	return nil
}
