package payment

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
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
//
// An app that opens the page in an auth session (the mobile app, through
// expo-web-browser) adds &return_url=URL: the link back then goes there,
// with payment_intent and redirect_status added as Stripe adds them to its
// return_url, which ends the auth session in the app. Only a page of the
// same host or an app's own link (a custom scheme such as emporium://) is
// taken; anything else (another website, javascript:) falls back to "/".
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
	Back      template.URL // checked by returnURL
	BackLabel string
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
<p><a href="{{.Back}}">{{.BackLabel}}</a></p>
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
		render(w, http.StatusOK, withBack(pageData{Title: "Nothing to confirm", Message: notWaiting(in)}, returnURL(r, r.URL.Query().Get("return_url")), "", ""))
		return
	}
	render(w, http.StatusOK, pageData{
		Title: "Confirm this test payment", Challenge: true,
		IntentID: in.ID, Amount: money.Format(in.Amount, in.Currency),
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
	ret := returnURL(r, r.URL.Query().Get("return_url"))
	switch {
	case errs.Is(err, errs.FailedPrecondition):
		render(w, http.StatusConflict, withBack(pageData{Title: "Nothing to confirm", Message: "This payment is no longer waiting for authentication."}, ret, "", ""))
	case err != nil:
		http.Error(w, "unknown payment", http.StatusNotFound)
	case in.Status == provider.StatusSucceeded:
		render(w, http.StatusOK, withBack(pageData{Title: "Payment approved", Message: "The test payment succeeded."}, ret, in.ID, "succeeded"))
	default:
		render(w, http.StatusOK, withBack(pageData{Title: "Payment failed", Message: "Authentication failed: the shop will ask for another payment method."}, ret, in.ID, "failed"))
	}
}

// returnURL is raw when the page may send the shopper there: a page on the
// host that served this one, or an app's own link (a custom scheme). Other
// websites and schemes that run or read things (javascript:, data:, file:)
// give nil.
func returnURL(r *http.Request, raw string) *url.URL {
	if raw == "" || len(raw) > 2048 {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host != r.Host || u.User != nil {
			return nil
		}
	case "javascript", "data", "vbscript", "file", "blob", "about", "filesystem", "intent":
		return nil
	}
	return u
}

// withBack sets d's link back: to ret, with the intent and how its
// challenge ended (when it just did) added as Stripe adds them to a
// return_url, or to the shop at "/".
func withBack(d pageData, ret *url.URL, intentID, status string) pageData {
	d.Back, d.BackLabel = "/", "Back to the shop"
	if ret == nil {
		return d
	}
	back := *ret
	q := back.Query()
	if intentID != "" {
		q.Set("payment_intent", intentID)
		q.Set("redirect_status", status)
	}
	back.RawQuery = q.Encode()
	// template.URL: the scheme was checked by returnURL (html/template would
	// otherwise refuse an app's custom scheme).
	d.Back, d.BackLabel = template.URL(back.String()), "Back to the app"
	return d
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
