package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// SignatureHeader is the HTTP header carrying a webhook signature.
const SignatureHeader = "Stripe-Signature"

// DefaultTolerance is how far a webhook timestamp may be from now, either way.
const DefaultTolerance = 300 * time.Second

// Sign returns a Stripe-Signature header value, "t=<unix>,v1=<hex>", where
// v1 is the HMAC-SHA256 of "<unix>.<payload>" keyed with secret.
func Sign(payload []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(computeSignature(ts, payload, secret))
}

func computeSignature(ts string, payload []byte, secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(payload)
	return mac.Sum(nil)
}

// Verify checks a Stripe-Signature header: the timestamp must be within
// tolerance of now (past or future) and one of the v1 signatures (several are
// sent while a secret is being rolled) must match, compared in constant time.
// Failures are errs.Unauthenticated.
func Verify(payload []byte, header, secret string, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return &errs.Error{Kind: errs.Internal, Message: "webhook secret not configured"}
	}
	if header == "" {
		return errs.Unauthenticatedf("webhook signature missing")
	}
	var ts string
	var sigs [][]byte
	for pair := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return errs.Unauthenticatedf("webhook signature header malformed")
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errs.Unauthenticatedf("webhook signature timestamp malformed")
	}
	if len(sigs) == 0 {
		return errs.Unauthenticatedf("webhook signature has no v1 value")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return errs.Unauthenticatedf("webhook timestamp outside tolerance")
	}
	want := computeSignature(ts, payload, secret)
	for _, sig := range sigs {
		if hmac.Equal(want, sig) {
			return nil
		}
	}
	return errs.Unauthenticatedf("webhook signature mismatch")
}
