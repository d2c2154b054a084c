package channel_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/svc/notification/channel"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

// emailBackend is an EmailSender and a way to see what it delivered.
type emailBackend struct {
	sender channel.EmailSender
	// delivered returns the subject and text of each message to `to`.
	delivered func(to string) [][2]string
	// refuse makes the backend refuse `to` permanently, or reports that it
	// cannot (the dev mailbox accepts everything).
	refuse func(to string) bool
}

func emailBackends(t *testing.T) map[string]emailBackend {
	srv := channeltest.StartSMTP(t)
	smtp, err := channel.NewSMTP(channel.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Username: srv.Username, Password: srv.Password,
		TLS: channel.TLSMandatory, From: "Emporium <shop@example.com>", TLSConfig: srv.TLSConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	plain := channeltest.StartPlainSMTP(t)
	plainSMTP, err := channel.NewSMTP(channel.SMTPConfig{
		Host: plain.Host, Port: plain.Port, Username: plain.Username, Password: plain.Password,
		TLS: channel.TLSNone, From: "shop@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	box := mailbox.New()
	return map[string]emailBackend{
		"smtp without TLS": {
			sender: plainSMTP,
			delivered: func(to string) [][2]string {
				var out [][2]string
				for _, m := range plain.To(to) {
					out = append(out, [2]string{m.Subject(), m.Text})
				}
				return out
			},
			refuse: func(to string) bool { plain.Refuse(to, 550); return true },
		},
		"smtp": {
			sender: smtp,
			delivered: func(to string) [][2]string {
				var out [][2]string
				for _, m := range srv.To(to) {
					out = append(out, [2]string{m.Subject(), m.Text})
				}
				return out
			},
			refuse: func(to string) bool { srv.Refuse(to, 550); return true },
		},
		"mailbox": {
			sender: channel.Mailbox{Box: box},
			delivered: func(to string) [][2]string {
				var out [][2]string
				for _, m := range box.List() {
					if m.To == to && m.Channel == mailbox.ChannelEmail {
						out = append(out, [2]string{m.Subject, m.Text})
					}
				}
				return out
			},
			refuse: func(string) bool { return false },
		},
	}
}

func TestEmailContract(t *testing.T) {
	t.Parallel()
	for name, b := range emailBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			id, err := b.sender.SendEmail(ctx, channel.Email{
				ID: "d-1", To: "ada@example.com", Subject: "Order EMP-1 confirmed – thank you",
				Text: "Total: €12.50\n", HTML: "<p>Total: <b>€12.50</b></p>",
			})
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			if !strings.HasPrefix(id, "d-1") {
				t.Errorf("provider id %q, want one derived from the message id d-1", id)
			}
			want := [][2]string{{"Order EMP-1 confirmed – thank you", "Total: €12.50\n"}}
			if diff := cmp.Diff(want, b.delivered("ada@example.com")); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
			if !b.refuse("nobody@example.com") {
				return
			}
			_, err = b.sender.SendEmail(ctx, channel.Email{ID: "d-2", To: "nobody@example.com", Subject: "s", Text: "t"})
			if !channel.IsPermanent(err) {
				t.Errorf("SendEmail to a refused mailbox: %v, want a permanent error", err)
			}
		})
	}
}

func TestSMTPMessageIDAndTransientFailure(t *testing.T) {
	t.Parallel()
	srv := channeltest.StartSMTP(t)
	s, err := channel.NewSMTP(channel.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Username: srv.Username, Password: srv.Password,
		From: "shop@example.com", TLSConfig: srv.TLSConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.Refuse("later@example.com", 451)
	if _, err := s.SendEmail(ctx, channel.Email{ID: "d-9", To: "later@example.com", Subject: "s", Text: "t"}); err == nil || channel.IsPermanent(err) {
		t.Fatalf("SendEmail refused with 451: %v, want a transient error", err)
	}
	srv.Accept("later@example.com")
	id, err := s.SendEmail(ctx, channel.Email{ID: "d-9", To: "later@example.com", Subject: "s", Text: "t"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.To("later@example.com")
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	if h := got[0].Header.Get("Message-Id"); h != "<d-9@example.com>" || id != "d-9@example.com" {
		t.Errorf("Message-ID header %q and provider id %q, want <d-9@example.com> from the delivery id", h, id)
	}

	wrong, err := channel.NewSMTP(channel.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Username: srv.Username, Password: "wrong",
		From: "shop@example.com", TLSConfig: srv.TLSConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.SendEmail(ctx, channel.Email{ID: "d-10", To: "x@example.com", Subject: "s", Text: "t"}); err == nil {
		t.Error("SendEmail with a wrong password succeeded")
	}
}

func TestNewSMTPRejectsBadSettings(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]channel.SMTPConfig{
		"no host":     {From: "a@example.com"},
		"bad from":    {Host: "localhost", From: "not an address"},
		"bad tls":     {Host: "localhost", From: "a@example.com", TLS: "sometimes"},
		"no from set": {Host: "localhost"},
	} {
		if _, err := channel.NewSMTP(cfg); err == nil {
			t.Errorf("%s: NewSMTP succeeded", name)
		}
	}
}

func TestTwilio(t *testing.T) {
	t.Parallel()
	fake := channeltest.StartTwilio(t)
	tw, err := channel.NewTwilio(channel.TwilioConfig{
		AccountSID: fake.AccountSID, AuthToken: fake.AuthToken, From: "+15005550006", BaseURL: fake.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sid, err := tw.SendSMS(ctx, channel.SMS{ID: "d-1", To: "+14155550100", Body: "Shipped: 1Z999"})
	if err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	want := []channeltest.TwilioMessage{{Sid: sid, To: "+14155550100", From: "+15005550006", Body: "Shipped: 1Z999"}}
	if diff := cmp.Diff(want, fake.Messages()); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	tests := []struct {
		name      string
		to        string
		status    int
		code      int
		permanent bool
	}{
		{"invalid number", "+19999999999", 400, 21211, true},
		{"rate limited", "+14155550101", 429, 20429, false},
		{"twilio down", "+14155550102", 500, 20500, false},
	}
	for _, tc := range tests {
		fake.Fail(tc.to, tc.status, tc.code)
		_, err := tw.SendSMS(ctx, channel.SMS{ID: "x", To: tc.to, Body: "b"})
		if err == nil || channel.IsPermanent(err) != tc.permanent {
			t.Errorf("%s: err %v, want permanent=%v", tc.name, err, tc.permanent)
		}
	}
	// The fake checks Twilio's own rules too: a number without + is not E.164.
	if _, err := tw.SendSMS(ctx, channel.SMS{ID: "y", To: "4155550100", Body: "b"}); !channel.IsPermanent(err) || !strings.Contains(err.Error(), "21211") {
		t.Errorf("SendSMS to a non-E.164 number: %v, want permanent error 21211", err)
	}

	bad, err := channel.NewTwilio(channel.TwilioConfig{AccountSID: fake.AccountSID, AuthToken: "wrong", From: "+15005550006", BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.SendSMS(ctx, channel.SMS{ID: "z", To: "+14155550100", Body: "b"}); err == nil {
		t.Error("SendSMS with a wrong auth token succeeded")
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("the fake accepted %d messages, want only the first", n)
	}
}

func TestMailboxSendsOncePerID(t *testing.T) {
	t.Parallel()
	box := mailbox.New()
	mb := channel.Mailbox{Box: box}
	ctx := context.Background()
	for range 2 {
		if _, err := mb.SendSMS(ctx, channel.SMS{ID: "d-1", To: "+14155550100", Body: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	got := box.List()
	if len(got) != 1 || got[0].Channel != mailbox.ChannelSMS || got[0].Text != "hello" {
		t.Errorf("mailbox holds %+v, want the one SMS", got)
	}
}
