// Package stripetest is a stateful fake of the part of Stripe's API the
// shop uses, for tests that need payments to move on: PaymentIntents
// (create, retrieve, confirm, cancel) and Refunds, on a real loopback HTTP
// server speaking Stripe's wire protocol: form-encoded POST bodies, bearer
// API keys, JSON resources, Stripe's error bodies
// ({"error": {"type", "code", "message"}}) and Idempotency-Key replay.
//
// stripe-mock (stripemocktest) checks requests against Stripe's OpenAPI
// spec but is stateless: its intents never succeed. This fake keeps its
// intents, so a test can count what was charged. It sends no webhooks: a
// shop that is correct without them is correct with them.
//
// Payment methods: pm_card_visa succeeds; pm_card_chargeDeclined is
// declined (402 card_error); any other is refused as unknown.
package stripetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running fake.
type Server struct {
	URL    string
	APIKey string

	mu      sync.Mutex
	intents map[string]*intent
	order   []string // intent ids, oldest first
	keys    map[string]replay
}

// Intent is what the fake holds of a PaymentIntent.
type Intent struct {
	ID       string
	OrderID  string // metadata[order_id]
	Amount   int64
	Currency string
	Status   string
	Refunded int64
}

type intent struct {
	Intent
	created  int64
	metadata map[string]string
	secret   string
}

// replay is the stored answer to an idempotency key.
type replay struct {
	request string // method, path and form, to refuse a key reused with other parameters
	status  int
	body    []byte
}

// Start runs the fake for the test's lifetime.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{APIKey: "sk_test_" + randomHex(12), intents: map[string]*intent{}, keys: map[string]replay{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Intents are the intents created so far, oldest first.
func (s *Server) Intents() []Intent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Intent, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.intents[id].Intent)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type apiError struct {
	status  int
	typ     string
	code    string
	message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		if u, _, ok := r.BasicAuth(); !ok || u != s.APIKey {
			writeError(w, apiError{http.StatusUnauthorized, "invalid_request_error", "", "Invalid API Key provided"})
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, apiError{http.StatusBadRequest, "invalid_request_error", "", "Invalid request body"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	request := r.Method + " " + r.URL.Path + " " + canonical(r.PostForm)
	if r.Method == http.MethodPost && key != "" {
		if prev, ok := s.keys[key]; ok {
			if prev.request != request {
				writeError(w, apiError{http.StatusBadRequest, "idempotency_error", "",
					"Keys for idempotent requests can only be used with the same parameters they were first used with."})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
	}
	status, body := s.handle(r)
	if r.Method == http.MethodPost && key != "" && status < 500 {
		s.keys[key] = replay{request: request, status: status, body: body}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_"+randomHex(7))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// canonical is the form sorted, so the same parameters compare equal.
func canonical(f url.Values) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s&", k, strings.Join(f[k], ","))
	}
	return b.String()
}

func (s *Server) handle(r *http.Request) (int, []byte) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	parts := strings.Split(path, "/")
	switch {
	case r.Method == http.MethodPost && path == "payment_intents":
		return s.create(r.PostForm)
	case r.Method == http.MethodPost && path == "refunds":
		return s.refund(r.PostForm)
	case parts[0] != "payment_intents" || len(parts) < 2:
		return errorBody(apiError{http.StatusNotFound, "invalid_request_error", "", "Unrecognized request URL (" + r.Method + ": " + r.URL.Path + ")"})
	}
	in, ok := s.intents[parts[1]]
	if !ok {
		return errorBody(apiError{http.StatusNotFound, "invalid_request_error", "resource_missing", "No such payment_intent: '" + parts[1] + "'"})
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 2:
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "confirm":
		if in.Status != "requires_payment_method" && in.Status != "requires_confirmation" {
			return unexpectedState(in, "confirm")
		}
		switch pm := r.PostForm.Get("payment_method"); pm {
		case "pm_card_visa":
			in.Status = "succeeded"
		case "pm_card_chargeDeclined":
			in.Status = "requires_payment_method"
			return errorBody(apiError{http.StatusPaymentRequired, "card_error", "card_declined", "Your card was declined."})
		default:
			return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "resource_missing", "No such PaymentMethod: '" + pm + "'"})
		}
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "cancel":
		if in.Status == "succeeded" || in.Status == "canceled" {
			return unexpectedState(in, "cancel")
		}
		in.Status = "canceled"
	default:
		return errorBody(apiError{http.StatusNotFound, "invalid_request_error", "", "Unrecognized request URL (" + r.Method + ": " + r.URL.Path + ")"})
	}
	return http.StatusOK, s.intentJSON(in)
}

func unexpectedState(in *intent, what string) (int, []byte) {
	return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state",
		fmt.Sprintf("You cannot %s this PaymentIntent because it has a status of %s.", what, in.Status)})
}

func (s *Server) create(f url.Values) (int, []byte) {
	amount, err := strconv.ParseInt(f.Get("amount"), 10, 64)
	if err != nil || amount < 1 {
		return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: " + f.Get("amount")})
	}
	cur := f.Get("currency")
	if len(cur) != 3 || strings.ToLower(cur) != cur {
		return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "parameter_invalid_string", "Invalid currency: " + cur})
	}
	in := &intent{created: time.Now().Unix(), metadata: map[string]string{}}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "metadata["); ok && strings.HasSuffix(name, "]") {
			in.metadata[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	in.ID = "pi_" + randomHex(12)
	in.secret = in.ID + "_secret_" + randomHex(12)
	in.Amount, in.Currency, in.Status, in.OrderID = amount, cur, "requires_payment_method", in.metadata["order_id"]
	s.intents[in.ID] = in
	s.order = append(s.order, in.ID)
	return http.StatusOK, s.intentJSON(in)
}

func (s *Server) refund(f url.Values) (int, []byte) {
	in, ok := s.intents[f.Get("payment_intent")]
	if !ok {
		return errorBody(apiError{http.StatusNotFound, "invalid_request_error", "resource_missing", "No such payment_intent: '" + f.Get("payment_intent") + "'"})
	}
	if in.Status != "succeeded" {
		return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state", "This PaymentIntent does not have a successful charge to refund."})
	}
	amount := in.Amount - in.Refunded
	if a := f.Get("amount"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 1 {
			return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: " + a})
		}
		amount = n
	}
	if amount <= 0 || amount > in.Amount-in.Refunded {
		return errorBody(apiError{http.StatusBadRequest, "invalid_request_error", "amount_too_large", "Refund amount is greater than unrefunded amount on charge."})
	}
	in.Refunded += amount
	b, _ := json.Marshal(map[string]any{"id": "re_" + randomHex(12), "object": "refund", "amount": amount, "currency": in.Currency,
		"status": "succeeded", "payment_intent": in.ID, "created": time.Now().Unix()})
	return http.StatusOK, b
}

func (s *Server) intentJSON(in *intent) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": in.ID, "object": "payment_intent", "amount": in.Amount, "amount_received": map[bool]int64{true: in.Amount}[in.Status == "succeeded"],
		"currency": in.Currency, "status": in.Status, "client_secret": in.secret, "created": in.created, "livemode": false,
		"metadata": in.metadata, "payment_method_types": []string{"card"},
	})
	return b
}

func errorBody(e apiError) (int, []byte) {
	body := map[string]any{"type": e.typ, "message": e.message}
	if e.code != "" {
		body["code"] = e.code
	}
	b, _ := json.Marshal(map[string]any{"error": body})
	return e.status, b
}

func writeError(w http.ResponseWriter, e apiError) {
	status, body := errorBody(e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
