package payment

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// SimulatorActionPath is where SimulatorActionPage serves the simulator's
// 3-D Secure step. Set the simulator's ActionURL to the shop's public URL
// plus this path.
const SimulatorActionPath = "/payment-simulator/3ds"

// SimulatorActionPage is the dev stand-in for a bank's 3-D Secure page, at
// SimulatorActionPath?payment_intent=ID. GET shows the test payment with
// Approve and Fail buttons; POST completes the challenge
// (Simulator.CompleteAction, whose webhook then updates the payment) and
// says how it went, with a link back to the shop at "/". Unknown intents
// get 404. Mount it only where the simulator is the provider.
func SimulatorActionPage(sim *provider.Simulator) http.Handler {
	p := &actionPage{sim: sim}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+SimulatorActionPath, p.show)
	mux.HandleFunc("POST "+SimulatorActionPath, p.complete)
	// Browsers may post to it only from the page itself.
	return http.NewCrossOriginProtection().Handler(mux)
}

type actionPage struct {
	sim *provider.Simulator
}

// pageData fills actionTemplate: a challenge (with buttons) or a message.
type pageData struct {
	Title     string
	Challenge bool
	IntentID  string
	Amount    string
	Message   string
}

var actionTemplate = template.Must(template.New("3ds").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
main { border: 1px solid #ccc; border-radius: .5rem; padding: 1.5rem; }
button { font-size: 1rem; padding: .5rem 1rem; margin-right: .5rem; }
small { color: #666; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Challenge -}}
<p>This page stands in for your bank's 3-D Secure check. No real money moves.</p>
<p>Amount: <strong>{{.Amount}}</strong><br><small>{{.IntentID}}</small></p>
<form method="post">
<input type="hidden" name="payment_intent" value="{{.IntentID}}">
<button name="result" value="approve">Approve</button>
<button name="result" value="fail">Fail</button>
</form>
{{- else -}}
<p>{{.Message}}</p>
<p><a href="/">Back to the shop</a></p>
{{- end}}
</main>
</body>
</html>
`))

func (p *actionPage) show(w http.ResponseWriter, r *http.Request) {
	in, err := p.sim.Get(r.Context(), r.URL.Query().Get("payment_intent"))
	if err != nil {
		http.Error(w, "unknown payment", http.StatusNotFound)
		return
	}
	if in.Status != provider.StatusRequiresAction {
		render(w, http.StatusOK, pageData{Title: "Nothing to confirm", Message: notWaiting(in)})
		return
	}
	render(w, http.StatusOK, pageData{
		Title: "Confirm this test payment", Challenge: true,
		IntentID: in.ID, Amount: formatAmount(in.Amount, in.Currency),
	})
}

func (p *actionPage) complete(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "unreadable form", http.StatusBadRequest)
		return
	}
	var approve bool
	switch r.PostFormValue("result") {
	case "approve":
		approve = true
	case "fail":
	default:
		http.Error(w, `result must be "approve" or "fail"`, http.StatusBadRequest)
		return
	}
	in, err := p.sim.CompleteAction(r.FormValue("payment_intent"), approve)
	switch {
	case errs.Is(err, errs.FailedPrecondition):
		render(w, http.StatusConflict, pageData{Title: "Nothing to confirm", Message: "This payment is no longer waiting for authentication."})
	case err != nil:
		http.Error(w, "unknown payment", http.StatusNotFound)
	case in.Status == provider.StatusSucceeded:
		render(w, http.StatusOK, pageData{Title: "Payment approved", Message: "The test payment succeeded."})
	default:
		render(w, http.StatusOK, pageData{Title: "Payment failed", Message: "Authentication failed: the shop will ask for another payment method."})
	}
}

func notWaiting(in provider.Intent) string {
	return "This payment is not waiting for authentication (its status is " + strings.ReplaceAll(string(in.Status), "_", " ") + ")."
}

func render(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := actionTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// minorDigits are the currencies whose minor unit is not a hundredth of
// the major one (Stripe's list of zero- and three-decimal currencies).
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// formatAmount shows minor units as a decimal amount: 1999 usd → "19.99 USD".
func formatAmount(minor int64, currency string) string {
	cur := strings.ToUpper(currency)
	digits, ok := minorDigits[cur]
	if !ok {
		digits = 2
	}
	s := strconv.FormatInt(minor, 10)
	if digits > 0 {
		s = strings.Repeat("0", max(0, digits+1-len(s))) + s
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	return s + " " + cur
}
