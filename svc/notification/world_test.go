package notification_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/testworld"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/notification/channel"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

const (
	serviceToken = testkit.ServiceToken
	staffToken   = testkit.StaffToken
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

	world *testworld.World
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
	// commerce adds the real product, shipping, payment and order
	// services, the order service reporting to the notification service,
	// with one product in the catalog: MUG-BLUE, an enamel mug at $12.50.
	commerce bool
}

func newEnv(t *testing.T, engine string, opt envOptions) *env {
	t.Helper()
	e := &env{}
	services := []string{"user", "notification"}
	if opt.commerce {
		services = testworld.Services
	}
	w := testworld.New(t, engine, testworld.Options{
		Services:        services,
		UserLinksByMail: !opt.usersViaNotify,
		Notification: func(_ *testworld.World, d *notification.Deps) {
			d.PublicURL = "https://shop.test"
			d.MaxAttempts, d.RetryBase, d.AfterSend = cmp.Or(opt.maxAttempts, 3), 100*time.Millisecond, opt.afterSend
			if opt.devMailbox {
				e.box = mailbox.New()
				d.Email, d.SMS, d.Mailbox = channel.Mailbox{Box: e.box}, channel.Mailbox{Box: e.box}, e.box
				return
			}
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
			d.Email, d.SMS, d.Mailbox = smtp, tw, nil
		},
	})
	if opt.commerce {
		w.Seed(t, testworld.Item{SKU: "MUG-BLUE", Slug: "enamel-mug", Title: "Enamel mug", Variant: "Blue", Price: 1250, Stock: 10, Grams: 400})
	}
	e.world, e.url, e.svc, e.db = w, w.URL, w.Notification.Service(), w.DB["notification"]
	if opt.usersViaNotify {
		e.userOutbox = w.DB["user"]
	}
	internal := testworld.As(serviceToken)
	e.notify = notificationv1connect.NewNotificationServiceClient(http.DefaultClient, e.url, internal)
	e.templates = notificationv1connect.NewTemplateServiceClient(http.DefaultClient, e.url, testworld.As(staffToken))
	e.deliveries = notificationv1connect.NewDeliveryServiceClient(http.DefaultClient, e.url, testworld.As(staffToken))
	e.users = userv1connect.NewUserServiceClient(http.DefaultClient, e.url)
	return e
}

// forEachEngine runs f on a fresh env of every engine, in parallel.
func forEachEngine(t *testing.T, opt envOptions, f func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) { f(t, newEnv(t, engine, opt)) })
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
	const password = "a long enough passphrase 42"
	if _, err := e.users.Register(ctx, &userv1.RegisterRequest{Email: email, Password: password, DisplayName: name}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	// Register names no account (it answers alike for taken emails): ask
	// the internal sign-in check for the new one's id.
	sub, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.url, testworld.As(testkit.ServiceToken)).
		CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: email, Password: password})
	if err != nil || sub.GetSubject() == nil {
		t.Fatalf("CheckPassword of the new shopper: %v, %v", sub, err)
	}
	s := shopper{id: sub.GetSubject().GetUserId(), email: email}
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

var code = testkit.Code

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
