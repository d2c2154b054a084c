package provider_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

const fuzzSecret = "whsec_fuzz"

// signedBy reports whether header carries, in Stripe's documented format,
// a v1 signature of payload by secret at a timestamp within tolerance of
// now: the oracle Verify must agree with, written independently of it.
func signedBy(payload []byte, header, secret string, now time.Time) bool {
	var ts string
	var sigs []string
	for pair := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return false
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(unix, 0)); d > provider.DefaultTolerance || d < -provider.DefaultTolerance {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(payload)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// FuzzVerify: a webhook is accepted only when the provider's secret signed
// exactly its body within the tolerance; anything else is unauthenticated.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_765_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`)
	f.Add(body, provider.Sign(body, fuzzSecret, now))
	f.Add(body, provider.Sign(body, fuzzSecret, now.Add(-301*time.Second)))
	f.Add(body, provider.Sign(body, "whsec_other", now)+","+provider.Sign(body, fuzzSecret, now)[len("t=1765000000,"):])
	f.Add(body, "t=1765000000,v1=")
	f.Add(body, "t=-9223372036854775808,v1=00")
	f.Add([]byte{}, ",,=,t=,v1=zz")
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		err := provider.Verify(payload, header, fuzzSecret, now, provider.DefaultTolerance)
		if want := signedBy(payload, header, fuzzSecret, now); (err == nil) != want {
			t.Fatalf("Verify(%q, %q) = %v; signed by the secret in tolerance: %v", payload, header, err, want)
		}
		if err != nil && !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("Verify refused with %v, want unauthenticated", err)
		}
	})
}

// FuzzParseWebhook: a correctly signed body of any shape gives either an
// event with an id and a type, or an error the webhook endpoint answers with
// 400 (invalid or unauthenticated), from the simulator and from Stripe's
// parser alike; never a panic or an internal error.
func FuzzParseWebhook(f *testing.F) {
	sim, err := provider.NewSimulator(provider.SimulatorConfig{WebhookSecret: fuzzSecret})
	if err != nil {
		f.Fatal(err)
	}
	stripe, err := provider.NewStripe(provider.StripeConfig{APIKey: "sk_test_fuzz", WebhookSecret: fuzzSecret, IgnoreAPIVersionMismatch: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1765000000,"data":{"object":{"id":"pi_1","object":"payment_intent"}}}`))
	f.Add([]byte(`{"id":"evt_2","object":"event","type":"charge.refunded","data":{"object":{"object":"refund","payment_intent":{"id":"pi_2"}}}}`))
	f.Add([]byte(`{"id":"evt_3","type":"x","data":{"object":{"payment_intent":7}}}`))
	f.Add([]byte(`{"id":"","type":""}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"evt_4","type":"payment_intent.created","created":-62135596801,"data":null}`))
	now := time.Unix(1_765_000_000, 0)
	f.Fuzz(func(t *testing.T, payload []byte) {
		header := provider.Sign(payload, fuzzSecret, now)
		for name, p := range map[string]provider.Provider{"simulator": sim, "stripe": stripe} {
			ev, err := p.ParseWebhook(payload, header, now)
			switch {
			case err == nil && (ev.ID == "" || ev.Type == ""):
				t.Fatalf("%s accepted %q as an event without id or type: %+v", name, payload, ev)
			case err != nil && !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Unauthenticated):
				t.Fatalf("%s: %q gave %v, want a 400-class error", name, payload, err)
			}
		}
	})
}
