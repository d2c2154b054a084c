// Package mailbox is the dev stand-in for email delivery: an in-process
// mailbox that keeps the newest messages and shows them on a web page
// (mounted at /dev/mailbox) and as JSON, so a newcomer can click the
// verification and password-reset links without an SMTP server.
//
// It holds live sign-in secrets (reset links): mount its Handler only in dev.
// Production wires another Sender (SMTP) in its place.
package mailbox

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Capacity is how many messages a Mailbox keeps; older ones are dropped.
const Capacity = 200

// Channels a message can travel by.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is one email or text message.
type Message struct {
	ID string `json:"id"` // set by the mailbox when empty
	// Channel is ChannelEmail (the default when empty) or ChannelSMS; an
	// SMS has its body in Text and its phone number in To.
	Channel string    `json:"channel,omitempty"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`           // plain-text body
	HTML    string    `json:"html,omitempty"` // optional HTML body
	Sent    time.Time `json:"sent"`           // set by the mailbox when zero
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Mailbox is an in-process Sender that keeps the newest Capacity messages.
// The zero value is ready to use; it is safe for concurrent use.
type Mailbox struct {
	mu   sync.Mutex
	ring []Message // oldest first
}

var _ Sender = (*Mailbox)(nil)

// New returns an empty mailbox.
func New() *Mailbox { return &Mailbox{} }

// Send implements Sender: it stores m. A message whose ID the mailbox
// already holds is not stored again, so a retried send shows once.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = uuid.Must(uuid.NewV7()).String()
	}
	if m.Channel == "" {
		m.Channel = ChannelEmail
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, kept := range b.ring {
		if kept.ID == m.ID {
			return nil
		}
	}
	if m.Sent.IsZero() {
		m.Sent = time.Now().UTC()
	}
	if len(b.ring) >= Capacity {
		// Drop the oldest; copy down so the backing array doesn't grow forever.
		n := copy(b.ring, b.ring[len(b.ring)-Capacity+1:])
		b.ring = b.ring[:n]
	}
	b.ring = append(b.ring, m)
	return nil
}

// List returns the kept messages, newest first.
func (b *Mailbox) List() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Message, len(b.ring))
	for i, m := range b.ring {
		out[len(b.ring)-1-i] = m
	}
	return out
}

// Handler serves the mailbox at its mount point (e.g. GET /dev/mailbox): an
// HTML page listing the messages, or JSON ({"messages": [...]}, newest
// first) when the request asks for it with "Accept: application/json" or
// "?format=json". Message content is escaped; HTML bodies are shown in a
// sandboxed iframe, which runs no scripts and cannot reach this page.
func (b *Mailbox) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Add("Vary", "Accept")
		msgs := b.List()
		if wantsJSON(r) {
			h.Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(struct {
				Messages []Message `json:"messages"`
			}{msgs})
			return
		}
		// No scripts, no remote content; inline styles only. srcdoc frames
		// inherit this policy, so a message's HTML can't load anything.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		views := make([]messageView, len(msgs))
		for i, m := range msgs {
			views[i] = messageView{Message: m, Parts: linkify(m.Text)}
		}
		_ = page.Execute(w, views)
	})
}

func wantsJSON(r *http.Request) bool {
	if r.URL.Query().Get("format") == "json" {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return true
		}
	}
	return false
}

type messageView struct {
	Message
	Parts []textPart
}

// textPart is a run of a text body: plain text, or a link to follow.
type textPart struct {
	Text string
	URL  string // set for links; html/template still vets the scheme
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

func linkify(s string) []textPart {
	var parts []textPart
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(s, -1) {
		if loc[0] > last {
			parts = append(parts, textPart{Text: s[last:loc[0]]})
		}
		u := strings.TrimRight(s[loc[0]:loc[1]], ".,;:!?)")
		parts = append(parts, textPart{Text: u, URL: u})
		last = loc[0] + len(u)
	}
	if last < len(s) {
		parts = append(parts, textPart{Text: s[last:]})
	}
	return parts
}

var page = template.Must(template.New("mailbox").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev mailbox ({{len .}})</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
article { border: 1px solid #ddd; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
.meta { color: #666; font-size: .9rem; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f7; padding: .75rem; border-radius: 4px; }
iframe { width: 100%; min-height: 16rem; border: 1px solid #eee; }
</style>
</head>
<body>
<h1>Dev mailbox</h1>
<p class="meta">The newest {{len .}} emails and text messages the shop sent, newest first (kept in memory, at most 200). Reload to see new ones; add <code>?format=json</code> for JSON.</p>
{{range .}}<article id="m-{{.ID}}">
<h2>{{.Subject}}</h2>
<div class="meta">{{if eq .Channel "sms"}}SMS to{{else}}To{{end}} {{.To}} · {{.Sent.Format "2006-01-02 15:04:05 MST"}}</div>
<pre>{{range .Parts}}{{if .URL}}<a href="{{.URL}}" rel="noreferrer">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
{{if .HTML}}<details><summary>HTML version</summary><iframe sandbox title="HTML body of {{.Subject}}" srcdoc="{{.HTML}}"></iframe></details>{{end}}
</article>
{{else}}<p>No messages yet.</p>
{{end}}</body>
</html>
`))
