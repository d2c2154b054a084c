package mailbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/mailbox"
)

func subjects(ms []mailbox.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject
	}
	return out
}

func TestKeepsNewestFirstUpToCapacity(t *testing.T) {
	t.Parallel()
	b := mailbox.New()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 { // concurrent senders: -race checks the locking
		wg.Go(func() {
			for i := range 25 {
				if err := b.Send(ctx, mailbox.Message{To: "a@example.com", Subject: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(b.List()); n != 100 {
		t.Fatalf("after 100 sends List has %d messages", n)
	}
	for i := range mailbox.Capacity + 5 {
		if err := b.Send(ctx, mailbox.Message{To: "a@example.com", Subject: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := b.List()
	if len(got) != mailbox.Capacity {
		t.Fatalf("List has %d messages, want the newest %d", len(got), mailbox.Capacity)
	}
	if diff := cmp.Diff([]string{"204", "203", "202"}, subjects(got[:3])); diff != "" {
		t.Errorf("newest first (-want +got):\n%s", diff)
	}
	if last := got[len(got)-1].Subject; last != "5" {
		t.Errorf("oldest kept = %q, want %q", last, "5")
	}
	if got[0].ID == "" || got[0].ID == got[1].ID || got[0].Sent.IsZero() {
		t.Errorf("messages need distinct ids and a sent time: %+v, %+v", got[0], got[1])
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Send(canceled, mailbox.Message{Subject: "late"}); err == nil {
		t.Error("Send on a canceled context succeeded")
	}
}

func TestHandlerEscapesAndServesJSON(t *testing.T) {
	t.Parallel()
	b := mailbox.New()
	ctx := context.Background()
	evil := mailbox.Message{
		To:      "eve@example.com",
		Subject: `<script>alert("s")</script>`,
		Text:    "Reset: http://localhost:8080/reset-password?token=abc_DEF-1.\n<img src=x onerror=alert(1)>",
		HTML:    `<p>hi</p><script>alert("h")</script>"><b>`,
	}
	if err := b.Send(ctx, mailbox.Message{To: "a@example.com", Subject: "older message"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx, evil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()

	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}

	res, html := get("/dev/mailbox", "text/html")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("no restrictive CSP: %q", res.Header.Get("Content-Security-Policy"))
	}
	for _, bad := range []string{"<script>", "<img src=x", `"><b>`} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;",
		`<a href="http://localhost:8080/reset-password?token=abc_DEF-1" rel="noreferrer">`,
		"<iframe sandbox ",
		"eve@example.com",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q:\n%s", want, html)
		}
	}
	if strings.Index(html, "eve@example.com") > strings.Index(html, "older message") {
		t.Error("page is not newest first")
	}

	for _, tc := range []struct{ path, accept string }{
		{"/dev/mailbox?format=json", ""},
		{"/dev/mailbox", "application/json"},
		{"/dev/mailbox", "text/plain;q=0.5, application/json;q=0.9"},
	} {
		res, body := get(tc.path, tc.accept)
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s Accept %q: Content-Type = %q", tc.path, tc.accept, ct)
		}
		var got struct{ Messages []mailbox.Message }
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: %v\n%s", tc.path, err, body)
		}
		if diff := cmp.Diff(b.List(), got.Messages); diff != "" {
			t.Errorf("%s JSON (-want +got):\n%s", tc.path, diff)
		}
	}

	res, _ = http.Post(srv.URL+"/dev/mailbox", "text/plain", nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", res.StatusCode)
	}
	res.Body.Close()
}

func TestSendKeepsAnIDOnceAndHoldsSMS(t *testing.T) {
	t.Parallel()
	b := mailbox.New()
	ctx := context.Background()
	for range 3 {
		if err := b.Send(ctx, mailbox.Message{ID: "m-1", Channel: mailbox.ChannelSMS, To: "+14155550100", Text: "shipped"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(ctx, mailbox.Message{To: "a@example.com", Subject: "hi", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	got := b.List()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2 (a repeated id is kept once)", len(got))
	}
	if got[0].Channel != mailbox.ChannelEmail || got[1].Channel != mailbox.ChannelSMS || got[1].Text != "shipped" {
		t.Errorf("messages %+v: want the email (channel defaulted) then the SMS", got)
	}
}
