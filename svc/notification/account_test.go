package notification_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

var tokenPattern = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// The user service's verification and reset links travel through Notify:
// the shopper gets one email per link, from the templates, and the links
// work.
func TestAccountLinksThroughNotify(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{usersViaNotify: true}, func(t *testing.T, e *env) {
		ctx := context.Background()
		zoe := e.register(t, "Zoe", nil) // Register sends the verification link
		e.waitIdle(t)
		mails := e.smtp.To(zoe.email)
		if len(mails) != 1 || mails[0].Subject() != "Confirm your email address" {
			t.Fatalf("emails after Register: %d (%v), want the verification", len(mails), subjects(mails))
		}
		m := tokenPattern.FindStringSubmatch(mails[0].Text)
		if m == nil {
			t.Fatalf("no link in the verification email:\n%s", mails[0].Text)
		}
		if _, err := e.users.VerifyEmail(ctx, &userv1.VerifyEmailRequest{Token: m[1]}); err != nil {
			t.Fatalf("VerifyEmail with the emailed token: %v", err)
		}

		if _, err := e.users.RequestPasswordReset(ctx, &userv1.RequestPasswordResetRequest{Email: zoe.email}); err != nil {
			t.Fatal(err)
		}
		e.waitIdle(t)
		mails = e.smtp.To(zoe.email)
		if len(mails) != 2 || mails[1].Subject() != "Reset your password" {
			t.Fatalf("emails after RequestPasswordReset: %v", subjects(mails))
		}
		m = tokenPattern.FindStringSubmatch(mails[1].Text)
		if m == nil {
			t.Fatalf("no link in the reset email:\n%s", mails[1].Text)
		}
		if _, err := e.users.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: m[1], NewPassword: "another long passphrase 43"}); err != nil {
			t.Fatalf("ResetPassword with the emailed token: %v", err)
		}
		list, err := e.deliveries.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{UserId: zoe.id})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []notificationv1.EventKind
		for _, d := range list.GetDeliveries() {
			kinds = append(kinds, d.GetKind())
			// Staff see that the link went, never the link itself.
			full := e.delivery(t, d.GetId())
			if strings.Contains(full.GetText(), m[1]) || strings.Contains(full.GetHtml(), "token="+m[1][:8]) ||
				!strings.Contains(full.GetText(), "token=REDACTED") {
				t.Errorf("GetDelivery of %s shows the link's token:\n%s", d.GetKind(), full.GetText())
			}
		}
		want := []notificationv1.EventKind{notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET, notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION}
		if len(kinds) != 2 || kinds[0] != want[0] || kinds[1] != want[1] {
			t.Errorf("Zoe's deliveries, newest first: %v, want %v", kinds, want)
		}
	})
}

func subjects(ms []channeltest.Received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Subject())
	}
	return out
}
