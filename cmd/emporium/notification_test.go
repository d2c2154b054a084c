package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
	"github.com/emporiumhq/emporium/svc/user"
)

// serve with the notification service and the SMTP flags: a shopper who
// registers through the edge gets the verification email at the relay.
func TestServeDeliversEmailThroughSMTP(t *testing.T) {
	t.Parallel()
	relay := channeltest.StartPlainSMTP(t)
	dbURL := dbtest.URL(t, "postgres", "user", user.Migrations)
	addr := freeAddr(t)
	out := start(t, addr, map[string]string{
		"EMPORIUM_SERVICES":       "user,notification,edge",
		"EMPORIUM_LISTEN":         addr,
		"EMPORIUM_DATABASE_URL":   dbURL,
		"EMPORIUM_INTERNAL_TOKEN": "internal-secret-for-tests",
		"EMPORIUM_SIGNING_KEYS":   t.TempDir() + "/keys.json",
		"EMPORIUM_PUBLIC_URL":     "https://shop.test",
		"EMPORIUM_SMTP_HOST":      relay.Host,
		"EMPORIUM_SMTP_PORT":      fmt.Sprint(relay.Port),
		"EMPORIUM_SMTP_TLS":       "none",
		"EMPORIUM_SMTP_USERNAME":  relay.Username,
		"EMPORIUM_SMTP_PASSWORD":  relay.Password,
		"EMPORIUM_MAIL_FROM":      "Emporium <shop@shop.test>",
		"EMPORIUM_JOB_POLL":       "50ms",
		// Product, order, payment and shipping run elsewhere.
		"EMPORIUM_UPSTREAM": "product=http://127.0.0.1:1;order=http://127.0.0.1:1;payment=http://127.0.0.1:1;shipping=http://127.0.0.1:1",
	}, "serve")
	users := userv1connect.NewUserServiceClient(http.DefaultClient, "http://"+addr)
	if _, err := users.Register(context.Background(), &userv1.RegisterRequest{
		Email: "relay-shopper@example.com", Password: "a long enough passphrase",
	}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(relay.To("relay-shopper@example.com")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no verification email reached the relay:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := relay.To("relay-shopper@example.com")[0]
	if m.Subject() != "Confirm your email address" || !strings.Contains(m.Text, "https://shop.test/verify-email?token=") ||
		!strings.HasSuffix(m.Header.Get("Message-Id"), "@shop.test>") {
		t.Errorf("verification email: subject %q, Message-ID %q, text:\n%s", m.Subject(), m.Header.Get("Message-Id"), m.Text)
	}
	// The edge routes the notification service's RPCs: staff ones refuse
	// anonymous callers, and the dev mailbox is not there in production.
	base := "http://" + addr
	_, err := notificationv1connect.NewTemplateServiceClient(http.DefaultClient, base).ListTemplates(context.Background(), &notificationv1.ListTemplatesRequest{})
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("ListTemplates signed out: %v, want unauthenticated", err)
	}
	_, err = notificationv1connect.NewMailboxServiceClient(http.DefaultClient, base).ListMailbox(context.Background(), &notificationv1.ListMailboxRequest{})
	if c := connect.CodeOf(err); c != connect.CodeUnimplemented && c != connect.CodeNotFound {
		t.Errorf("ListMailbox with SMTP as the channel: %v, want unimplemented", err)
	}
}
