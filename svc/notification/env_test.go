package notification_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/notification/channel"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
	"github.com/emporiumhq/emporium/svc/user"
)

const (
	serviceToken = "service-token"
	staffToken   = "staff-token"
	// waitTimeout bounds every wait for something asynchronous.
	waitTimeout = 20 * time.Second
)

// env is the notification service as it runs in production, on a real
// loopback server with the real interceptors, over a real database, with
// the real user service beside it (shoppers, contacts) and its real
// channels talking to a go-smtp server and a Twilio fake.
type env struct {
	svc    *notification.Service
	db     *bun.DB
	smtp   *channeltest.SMTPServer
	twilio *channeltest.TwilioFake
	box    *mailbox.Mailbox // the dev mailbox, with envOptions.devMailbox
	url    string
	// userOutbox is the user service's database, whose outbox hands links
	// to Notify, with envOptions.usersViaNotify.
	userOutbox *bun.DB

	notify     notificationv1connect.NotificationServiceClient // as another service
	templates  notificationv1connect.TemplateServiceClient     // as staff
	deliveries notificationv1connect.DeliveryServiceClient     // as staff
	users      userv1connect.UserServiceClient                 // anonymous

	mux  *http.ServeMux
	opts []connect.HandlerOption
	log  *slog.Logger
}

type envOptions struct {
	// devMailbox makes the dev mailbox both channels, as in emporium dev.
	devMailbox bool
	// afterSend is the service's AfterSend hook.
	afterSend func(deliveryID string)
	// maxAttempts is the service's MaxAttempts; default 3.
	maxAttempts int
	// usersViaNotify makes the user service send its links through Notify,
	// as the composition root wires it, instead of its own mailbox.
	usersViaNotify bool
}

// tokens authenticates the test's callers: the service and staff tokens,
// and "user:<id>" as that signed-in shopper.
type tokens struct{ static *authz.StaticTokens }

func (a tokens) Authenticate(ctx context.Context, h http.Header) (*authz.Principal, error) {
	tok, ok, err := authz.BearerToken(h)
	if !ok || err != nil {
		return nil, err
	}
	if id, ok := strings.CutPrefix(tok, "user:"); ok && id != "" {
		return &authz.Principal{Subject: id, Roles: []string{authz.RoleCustomer}}, nil
	}
	return a.static.Authenticate(ctx, h)
}

func newEnv(t *testing.T, engine string, opt envOptions) *env {
	t.Helper()
	ctx := context.Background()
	log, err := logx.New(testLog{t}, "warn")
	if err != nil {
		t.Fatal(err)
	}
	auth := tokens{authz.NewStaticTokens(map[string]*authz.Principal{
		serviceToken: {Subject: "emporium-internal", Roles: []string{authz.RoleService}},
		staffToken:   {Subject: "staff-1", Roles: []string{authz.RoleStaff}},
	})}
	opts, err := serve.HandlerOptions(log, auth)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e := &env{url: servetest.Start(t, mux), mux: mux, opts: opts, log: log}
	internal := servetest.Bearer(serviceToken)

	udb := dbtest.Open(t, engine, "user", user.Migrations)
	udeps := user.Deps{DB: udb, Mail: mailbox.New(), PublicURL: "http://shop.test", Log: log, HashConcurrency: 2, JobPoll: 50 * time.Millisecond}
	if opt.usersViaNotify {
		if _, err := user.Migrate(ctx, udb); err != nil {
			t.Fatal(err)
		}
		e.userOutbox = udb
		udeps.Mail, udeps.Notifications = nil, notificationv1connect.NewNotificationServiceClient(http.DefaultClient, e.url, internal)
	}
	users, err := user.New(udeps)
	if err != nil {
		t.Fatal(err)
	}
	if opt.usersViaNotify {
		// The links go through the user service's outbox.
		if err := users.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = users.Stop(context.Background()) })
	}
	users.Mount(mux, opts...)

	e.db = dbtest.Open(t, engine, "notification", notification.Migrations)
	if _, err := notification.Migrate(ctx, e.db); err != nil {
		t.Fatal(err)
	}
	deps := notification.Deps{
		DB: e.db, Users: userv1connect.NewUserServiceClient(http.DefaultClient, e.url, internal),
		PublicURL: "https://shop.test", Log: log, JobPoll: 50 * time.Millisecond,
		MaxAttempts: cmp.Or(opt.maxAttempts, 3), RetryBase: 100 * time.Millisecond, AfterSend: opt.afterSend,
	}
	if opt.devMailbox {
		e.box = mailbox.New()
		deps.Email, deps.SMS, deps.Mailbox = channel.Mailbox{Box: e.box}, channel.Mailbox{Box: e.box}, e.box
	} else {
		e.smtp = channeltest.StartSMTP(t)
		smtp, err := channel.NewSMTP(channel.SMTPConfig{
			Host: e.smtp.Host, Port: e.smtp.Port, Username: e.smtp.Username, Password: e.smtp.Password,
			From: "Emporium <shop@example.com>", TLSConfig: e.smtp.TLSConfig,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.twilio = channeltest.StartTwilio(t)
		tw, err := channel.NewTwilio(channel.TwilioConfig{
			AccountSID: e.twilio.AccountSID, AuthToken: e.twilio.AuthToken, From: "+15005550006", BaseURL: e.twilio.URL,
		})
		if err != nil {
			t.Fatal(err)
		}
		deps.Email, deps.SMS = smtp, tw
	}
	e.svc, err = notification.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Mount(mux, opts...)
	if err := e.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.svc.Stop(stop); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	e.notify = notificationv1connect.NewNotificationServiceClient(http.DefaultClient, e.url, internal)
	e.templates = notificationv1connect.NewTemplateServiceClient(http.DefaultClient, e.url, servetest.Bearer(staffToken))
	e.deliveries = notificationv1connect.NewDeliveryServiceClient(http.DefaultClient, e.url, servetest.Bearer(staffToken))
	e.users = userv1connect.NewUserServiceClient(http.DefaultClient, e.url)
	return e
}

// forEachEngine runs f on a fresh env of every engine, in parallel.
func forEachEngine(t *testing.T, opt envOptions, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, engine, opt))
		})
	}
}

// shopper is a registered user.
type shopper struct {
	id, email, phone string
}

// register signs a shopper up and sets the profile fields given (phone,
// locale).
func (e *env) register(t *testing.T, name string, profile *userv1.User) shopper {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("shopper-%d@example.com", time.Now().UnixNano())
	res, err := e.users.Register(ctx, &userv1.RegisterRequest{Email: email, Password: "a long enough passphrase 42", DisplayName: name})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	s := shopper{id: res.GetUser().GetId(), email: email}
	if profile != nil {
		var paths []string
		if profile.GetPhone() != "" {
			paths = append(paths, "phone")
			s.phone = profile.GetPhone()
		}
		if profile.GetLocale() != "" {
			paths = append(paths, "locale")
		}
		me := userv1connect.NewUserServiceClient(http.DefaultClient, e.url, servetest.Bearer("user:"+s.id))
		if _, err := me.UpdateMe(ctx, &userv1.UpdateMeRequest{User: profile, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}); err != nil {
			t.Fatalf("UpdateMe: %v", err)
		}
	}
	return s
}

// preferences is the preference API as shopper s.
func (e *env) preferences(s shopper) notificationv1connect.PreferenceServiceClient {
	return notificationv1connect.NewPreferenceServiceClient(http.DefaultClient, e.url, servetest.Bearer("user:"+s.id))
}

func money(amount int64) *typev1.Money { return &typev1.Money{Amount: amount, Currency: "USD"} }

// paidOrder is an order as the order service reports it when paid.
func paidOrder(customerID, number string) *orderv1.Order {
	return &orderv1.Order{
		Id: "order-" + number, Number: number, CustomerId: customerID, Status: orderv1.OrderStatus_ORDER_STATUS_PAID,
		Lines: []*orderv1.OrderLine{
			{Sku: "MUG-BLUE", Title: "Enamel mug", VariantTitle: "Blue", UnitPrice: money(1250), Quantity: 2, LineTotal: money(2500)},
			{Sku: "LAMP-1", Title: "Desk lamp", UnitPrice: money(123400), Quantity: 1, LineTotal: money(123400)},
		},
		Subtotal: money(125900), DiscountTotal: money(0), ShippingTotal: money(599), TaxTotal: money(9128),
		Total: money(135627), RefundedTotal: money(0),
		ShippingAddress: &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"},
	}
}

// confirm reports an order of s as paid.
func (e *env) confirm(t *testing.T, s shopper, number string) *notificationv1.NotifyResponse {
	t.Helper()
	res, err := e.notify.Notify(context.Background(), &notificationv1.NotifyRequest{
		EventId: "order:" + number + ":confirmed", Kind: notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED,
		UserId: s.id, Subject: &notificationv1.NotifyRequest_Order{Order: paidOrder(s.id, number)},
	})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	return res
}

// shipped reports a parcel of an order of s as shipped.
func (e *env) shipped(t *testing.T, s shopper, number, tracking string) *notificationv1.NotifyResponse {
	t.Helper()
	res, err := e.notify.Notify(context.Background(), shippedRequest(s, number, tracking))
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	return res
}

func shippedRequest(s shopper, number, tracking string) *notificationv1.NotifyRequest {
	return &notificationv1.NotifyRequest{
		EventId: "shipment:" + number + ":shipped", Kind: notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED, UserId: s.id,
		Subject: &notificationv1.NotifyRequest_Shipment{Shipment: &notificationv1.ShipmentNotice{
			ShipmentId: "ship-" + number, OrderId: "order-" + number, OrderNumber: number,
			Carrier: "UPS", ServiceName: "Ground", TrackingNumber: tracking,
			TrackingUrl: "https://www.ups.com/track?tracknum=" + tracking,
			Items:       []*notificationv1.ShipmentNoticeItem{{Sku: "MUG-BLUE", Title: "Enamel mug", Quantity: 2}},
		}},
	}
}

// delivery reads a delivery with its log.
func (e *env) delivery(t *testing.T, id string) *notificationv1.Delivery {
	t.Helper()
	res, err := e.deliveries.GetDelivery(context.Background(), &notificationv1.GetDeliveryRequest{Id: id})
	if err != nil {
		t.Fatalf("GetDelivery(%s): %v", id, err)
	}
	return res.GetDelivery()
}

// waitStatus waits until delivery id has status want.
func (e *env) waitStatus(t *testing.T, id string, want notificationv1.DeliveryStatus) *notificationv1.Delivery {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		d := e.delivery(t, id)
		if d.GetStatus() == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s after %s (last error %q), want %s", id, d.GetStatus(), waitTimeout, d.GetLastError(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIdle waits until no delivery job is waiting, running or retrying.
func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	if e.userOutbox != nil {
		waitJobs(t, e.userOutbox, "user_notify_link") // they Notify, which queues deliveries
	}
	waitJobs(t, e.db, "notification_deliver")
}

// waitJobs waits until d has no open River jobs of kind.
func waitJobs(t *testing.T, d *bun.DB, kind string) {
	t.Helper()
	const q = "SELECT count(*) FROM river_job WHERE kind = ? AND state NOT IN ('completed', 'cancelled', 'discarded')"
	deadline := time.Now().Add(waitTimeout)
	for {
		var n int
		if err := d.NewRaw(q, kind).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs still open after %s", n, kind, waitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func code(err error) connect.Code { return connect.CodeOf(err) }

// testLog sends the services' logs to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// once runs f the first time only, safely from River's workers.
type once struct {
	mu   sync.Mutex
	done bool
}

func (o *once) first() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return false
	}
	o.done = true
	return true
}
