package payment

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// SimulatorTokenizePath is where SimulatorTokenizer turns test cards into
// payment method ids: the simulator's side of what Stripe.js does against
// Stripe's POST /v1/payment_methods.
const SimulatorTokenizePath = "/payment-simulator/v1/payment_methods"

// SimulatorTokenizer serves POST SimulatorTokenizePath with the shape of
// Stripe's payment method creation: a form with type=card, card[number]
// and optionally card[exp_month], card[exp_year] and card[cvc], answered
// with a payment_method object whose id (pm_sim_…) PayOrder takes, or with
// Stripe's error object (402 for a card the simulator refuses, 400 for a
// malformed request). Browsers post card digits here, never to the API, so
// the dev checkout takes the path production takes with Stripe. The card
// is read and forgotten: not stored, not logged. Mount it only where the
// simulator is the provider.
func SimulatorTokenizer(sim *provider.Simulator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+SimulatorTokenizePath, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "The request body must be a form (application/x-www-form-urlencoded) of at most 4 KiB.")
			return
		}
		if t := r.PostFormValue("type"); t != "card" {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_string", "type", `type must be "card".`)
			return
		}
		card := provider.Card{Number: r.PostFormValue("card[number]"), CVC: r.PostFormValue("card[cvc]")}
		for _, f := range []struct {
			param string
			into  *int
		}{{"card[exp_month]", &card.ExpMonth}, {"card[exp_year]", &card.ExpYear}} {
			v := r.PostFormValue(f.param)
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				stripeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", f.param, "Invalid integer: "+f.param+".")
				return
			}
			*f.into = n
		}
		if card.Number == "" {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "card[number]", "Missing required param: card[number].")
			return
		}
		pm, err := sim.CreatePaymentMethod(card)
		var ce *provider.CardError
		if errors.As(err, &ce) {
			stripeError(w, http.StatusPaymentRequired, "card_error", ce.Code, ce.Param, ce.Message)
			return
		}
		if err != nil {
			stripeError(w, http.StatusInternalServerError, "api_error", "", "", "The payment simulator failed.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": pm.ID, "object": "payment_method", "type": "card", "livemode": false,
			"created": time.Now().Unix(),
			"card":    map[string]any{"brand": pm.Brand, "last4": pm.Last4, "exp_month": pm.ExpMonth, "exp_year": pm.ExpYear},
		})
	})
	return mux
}

// stripeError answers with Stripe's error object.
func stripeError(w http.ResponseWriter, status int, typ, code, param, msg string) {
	e := map[string]string{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
