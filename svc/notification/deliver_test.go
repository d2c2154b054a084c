package notification_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// An order paid → exactly one confirmation email at the SMTP server, with
// the order's totals, however often the event is reported.
func TestOrderConfirmedSendsOneEmailWithTotals(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ada := e.register(t, "Ada", nil)
		first := e.confirm(t, ada, "EMP-TOTALS1")
		if len(first.GetDeliveryIds()) != 1 {
			t.Fatalf("Notify made deliveries %v, want one email (the shopper has no phone)", first.GetDeliveryIds())
		}
		// The outbox reports the event again, and again.
		for range 3 {
			again := e.confirm(t, ada, "EMP-TOTALS1")
			if diff := cmp.Diff(first.GetDeliveryIds(), again.GetDeliveryIds()); diff != "" {
				t.Errorf("repeated Notify deliveries (-first +again):\n%s", diff)
			}
		}
		d := e.waitStatus(t, first.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		e.waitIdle(t)

		got := e.smtp.To(ada.email)
		if len(got) != 1 {
			t.Fatalf("the SMTP server got %d messages for %s, want exactly 1", len(got), ada.email)
		}
		m := got[0]
		if s := m.Subject(); s != "Order EMP-TOTALS1 confirmed" {
			t.Errorf("subject %q", s)
		}
		for _, want := range []string{
			"Hello Ada,",
			"2 × Enamel mug (Blue)  $25.00",
			"1 × Desk lamp  $1,234.00",
			"Subtotal: $1,259.00",
			"Shipping: $5.99",
			"Tax: $91.28",
			"Total: $1,356.27",
			"Shipping to: Ada Lovelace, London",
			"https://shop.test/orders/order-EMP-TOTALS1",
		} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text body lacks %q:\n%s", want, m.Text)
			}
		}
		if strings.Contains(m.Text, "Discount") {
			t.Errorf("text body shows a discount the order does not have:\n%s", m.Text)
		}
		if !strings.Contains(m.HTML, "<strong>$1,356.27</strong>") {
			t.Errorf("HTML body lacks the total:\n%s", m.HTML)
		}
		if h := m.Header.Get("Message-Id"); h != "<"+d.GetId()+"@example.com>" || d.GetProviderId() != d.GetId()+"@example.com" {
			t.Errorf("Message-ID %q, provider id %q: want both from delivery id %s", h, d.GetProviderId(), d.GetId())
		}
		wantLog := []string{"sent"}
		if diff := cmp.Diff(wantLog, outcomes(d)); diff != "" {
			t.Errorf("delivery log (-want +got):\n%s", diff)
		}
	})
}

// Shipped → one email and one SMS, each with the tracking number.
func TestShippedSendsEmailAndSMSWithTracking(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		grace := e.register(t, "Grace", &userv1.User{Phone: "+1 (415) 555-0100"})
		res := e.shipped(t, grace, "EMP-SHIP1", "1Z999AA10123456784")
		if len(res.GetDeliveryIds()) != 2 {
			t.Fatalf("deliveries %v, want an email and an SMS", res.GetDeliveryIds())
		}
		for _, id := range res.GetDeliveryIds() {
			e.waitStatus(t, id, notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		}
		e.shipped(t, grace, "EMP-SHIP1", "1Z999AA10123456784") // reported twice
		e.waitIdle(t)

		mails := e.smtp.To(grace.email)
		if len(mails) != 1 {
			t.Fatalf("%d emails, want 1", len(mails))
		}
		if !strings.Contains(mails[0].Text, "Tracking number: 1Z999AA10123456784") ||
			!strings.Contains(mails[0].Subject(), "EMP-SHIP1") {
			t.Errorf("email %q lacks the order or tracking number:\n%s", mails[0].Subject(), mails[0].Text)
		}
		if !strings.Contains(mails[0].HTML, `href="https://www.ups.com/track?tracknum=1Z999AA10123456784"`) {
			t.Errorf("HTML lacks the tracking link:\n%s", mails[0].HTML)
		}
		sms := e.twilio.To("+14155550100")
		if len(sms) != 1 {
			t.Fatalf("%d SMS to +14155550100, want 1 (all: %+v)", len(sms), e.twilio.Messages())
		}
		want := "Emporium: order EMP-SHIP1 shipped with UPS, tracking 1Z999AA10123456784 https://www.ups.com/track?tracknum=1Z999AA10123456784"
		if sms[0].Body != want || sms[0].From != "+15005550006" {
			t.Errorf("SMS %+v, want body %q from +15005550006", sms[0], want)
		}
		smsDelivery := e.delivery(t, res.GetDeliveryIds()[1])
		if smsDelivery.GetChannel() != notificationv1.Channel_CHANNEL_SMS || smsDelivery.GetProviderId() != sms[0].Sid {
			t.Errorf("SMS delivery %+v, want channel SMS and Twilio's sid %s", smsDelivery, sms[0].Sid)
		}
	})
}

// A worker that dies after the provider accepted a message, before it was
// marked sent: River runs the job again, and it sends nothing twice.
func TestJobRetriedAfterCrashSendsNothingTwice(t *testing.T) {
	t.Parallel()
	forEachEngineOwnHook(t, func(id string) {
		// The worker "dies" here, on the first send only: nothing after
		// the provider call runs.
		panic("worker killed between send and record for " + id)
	}, func(t *testing.T, e *env) {
		ada := e.register(t, "Ada", nil)
		res := e.confirm(t, ada, "EMP-CRASH1")
		d := e.waitStatus(t, res.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
		e.waitIdle(t)
		if n := len(e.smtp.To(ada.email)); n != 1 {
			t.Fatalf("the SMTP server got %d messages, want exactly 1", n)
		}
		if diff := cmp.Diff([]string{"unconfirmed"}, outcomes(d)); diff != "" {
			t.Errorf("delivery log (-want +got):\n%s", diff)
		}
		if d.GetAttempts() != 1 || !strings.Contains(d.GetLastError(), "without recording") {
			t.Errorf("delivery %+v: want 1 attempt and the unconfirmed reason", d)
		}
		// Staff see it among the dead.
		list, err := e.deliveries.ListDeliveries(context.Background(), &notificationv1.ListDeliveriesRequest{
			Statuses: []notificationv1.DeliveryStatus{notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetDeliveries()) != 1 || list.GetDeliveries()[0].GetId() != d.GetId() {
			t.Errorf("dead deliveries %v, want %s", ids(list.GetDeliveries()), d.GetId())
		}
	})
}

// A relay that drops the connection after taking a message, before its
// answer: the shop cannot know whether it went, so it does not send it
// again (nobody gets it twice) and leaves it dead for staff to check.
func TestLostAnswerSendsNothingTwice(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{maxAttempts: 5}, func(t *testing.T, e *env) {
		ada := e.register(t, "Ada", nil)
		e.smtp.CutAfterData(ada.email)
		res := e.confirm(t, ada, "EMP-CUT1")
		d := e.waitStatus(t, res.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
		e.waitIdle(t)
		if n := len(e.smtp.To(ada.email)); n != 1 {
			t.Fatalf("the SMTP server got %d messages, want exactly 1", n)
		}
		if diff := cmp.Diff([]string{"unconfirmed"}, outcomes(d)); diff != "" {
			t.Errorf("delivery log (-want +got):\n%s", diff)
		}
		if d.GetAttempts() != 1 || !strings.Contains(d.GetLastError(), "without recording") {
			t.Errorf("delivery %+v: want 1 attempt and the unconfirmed reason", d)
		}
	})
}

// forEachEngineOwnHook is forEachEngine with an AfterSend hook that runs
// on the first send of each engine's env only.
func forEachEngineOwnHook(t *testing.T, hook func(string), f func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			var o once
			f(t, newEnv(t, engine, envOptions{afterSend: func(id string) {
				if o.first() {
					hook(id)
				}
			}}))
		})
	}
}

// A transient failure is retried with backoff and sends once; a permanent
// one is dead at once, visible to staff, and RetryDelivery sends it.
func TestFailuresRetriesAndDeadLetters(t *testing.T) {
	t.Parallel()
	// Enough attempts that the test lets the server recover in time
	// however slow the machine.
	forEachEngine(t, envOptions{maxAttempts: 20}, func(t *testing.T, e *env) {
		ctx := context.Background()

		// Transient: the server says "try later" once.
		lin := e.register(t, "Lin", nil)
		e.smtp.Refuse(lin.email, 451)
		res := e.confirm(t, lin, "EMP-TRANS1")
		id := res.GetDeliveryIds()[0]
		deadline := time.Now().Add(waitTimeout)
		for e.delivery(t, id).GetAttempts() < 1 || e.delivery(t, id).GetStatus() != notificationv1.DeliveryStatus_DELIVERY_STATUS_RETRYING {
			if time.Now().After(deadline) {
				t.Fatalf("delivery never retrying: %+v", e.delivery(t, id))
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.smtp.Accept(lin.email)
		d := e.waitStatus(t, id, notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		if got := outcomes(d); len(got) < 2 || got[0] != "failed" || got[len(got)-1] != "sent" {
			t.Errorf("delivery log %v, want failed … sent", got)
		}
		if n := len(e.smtp.To(lin.email)); n != 1 {
			t.Errorf("%d messages to %s, want 1", n, lin.email)
		}

		// Permanent: the mailbox does not exist.
		max := e.register(t, "Max", &userv1.User{Phone: "4155550199"}) // no country code: Twilio refuses it
		e.smtp.Refuse(max.email, 550)
		res = e.shipped(t, max, "EMP-PERM1", "TRACK-PERM1")
		if len(res.GetDeliveryIds()) != 2 {
			t.Fatalf("deliveries %v, want email and SMS", res.GetDeliveryIds())
		}
		mailID, smsID := res.GetDeliveryIds()[0], res.GetDeliveryIds()[1]
		dead := e.waitStatus(t, mailID, notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
		if dead.GetAttempts() != 1 || !strings.Contains(dead.GetLastError(), "550") {
			t.Errorf("dead email %+v: want one attempt and the 550 reply", dead)
		}
		deadSMS := e.waitStatus(t, smsID, notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
		if deadSMS.GetAttempts() != 1 || !strings.Contains(deadSMS.GetLastError(), "21211") {
			t.Errorf("dead SMS %+v: want one attempt and Twilio's 21211", deadSMS)
		}
		list, err := e.deliveries.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{
			Statuses: []notificationv1.DeliveryStatus{notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD},
			UserId:   max.id, Channel: notificationv1.Channel_CHANNEL_EMAIL,
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{mailID}, ids(list.GetDeliveries())); diff != "" {
			t.Errorf("dead emails of Max (-want +got):\n%s", diff)
		}

		// Only dead deliveries can be retried.
		if _, err := e.deliveries.RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{Id: id}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("RetryDelivery of a sent delivery: %v, want failed_precondition", err)
		}
		e.smtp.Accept(max.email)
		if _, err := e.deliveries.RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{Id: mailID}); err != nil {
			t.Fatalf("RetryDelivery: %v", err)
		}
		d = e.waitStatus(t, mailID, notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		if diff := cmp.Diff([]string{"dead", "retried-by-staff", "sent"}, outcomes(d)); diff != "" {
			t.Errorf("delivery log (-want +got):\n%s", diff)
		}
		if n := len(e.smtp.To(max.email)); n != 1 {
			t.Errorf("%d messages to %s, want 1", n, max.email)
		}
	})
}

// Transient failures that never clear end dead after MaxAttempts (3 here).
func TestOutOfAttemptsIsDead(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		bo := e.register(t, "Bo", nil)
		e.smtp.Refuse(bo.email, 421)
		res := e.confirm(t, bo, "EMP-ATTEMPTS")
		d := e.waitStatus(t, res.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
		if diff := cmp.Diff([]string{"failed", "failed", "dead"}, outcomes(d)); diff != "" {
			t.Errorf("delivery log (-want +got):\n%s", diff)
		}
		if d.GetAttempts() != 3 || !strings.Contains(d.GetLastError(), "gave up after 3 attempts") {
			t.Errorf("delivery %+v: want 3 attempts and the reason", d)
		}
	})
}

// Preferences: SMS shipping updates can be turned off; transactional email
// always goes, whatever the marketing choices.
func TestPreferences(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		kim := e.register(t, "Kim", &userv1.User{Phone: "+14155550123"})
		prefs := e.preferences(kim)
		got, err := prefs.GetPreferences(ctx, &notificationv1.GetPreferencesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want := &notificationv1.Preferences{SmsShippingUpdates: true}
		if diff := cmp.Diff(want, got.GetPreferences(), protocmp.Transform()); diff != "" {
			t.Errorf("default preferences (-want +got):\n%s", diff)
		}
		upd, err := prefs.UpdatePreferences(ctx, &notificationv1.UpdatePreferencesRequest{
			Preferences: &notificationv1.Preferences{EmailMarketing: false, SmsMarketing: false, SmsShippingUpdates: false},
			UpdateMask:  []string{"email_marketing", "sms_marketing", "sms_shipping_updates"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if upd.GetPreferences().GetSmsShippingUpdates() || upd.GetPreferences().GetUpdateTime() == nil {
			t.Errorf("updated preferences %+v", upd.GetPreferences())
		}
		again, err := prefs.GetPreferences(ctx, &notificationv1.GetPreferencesRequest{})
		if err != nil || again.GetPreferences().GetSmsShippingUpdates() {
			t.Fatalf("GetPreferences after update: %+v, %v", again.GetPreferences(), err)
		}

		shipped := e.shipped(t, kim, "EMP-PREF1", "TRACK-PREF1")
		confirmed := e.confirm(t, kim, "EMP-PREF1")
		if len(shipped.GetDeliveryIds()) != 1 || len(confirmed.GetDeliveryIds()) != 1 {
			t.Fatalf("deliveries: shipped %v, confirmed %v; want one email each and no SMS", shipped.GetDeliveryIds(), confirmed.GetDeliveryIds())
		}
		e.waitStatus(t, shipped.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		e.waitStatus(t, confirmed.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		if n := len(e.twilio.To("+14155550123")); n != 0 {
			t.Errorf("%d SMS sent to a shopper who turned them off", n)
		}
		if n := len(e.smtp.To(kim.email)); n != 2 {
			t.Errorf("%d emails, want the 2 transactional ones", n)
		}

		// Bad masks are refused by validation.
		_, err = prefs.UpdatePreferences(ctx, &notificationv1.UpdatePreferencesRequest{
			Preferences: &notificationv1.Preferences{}, UpdateMask: []string{"roles"},
		})
		if code(err) != connect.CodeInvalidArgument {
			t.Errorf("UpdatePreferences with an unknown path: %v, want invalid_argument", err)
		}
	})
}

// Notify checks that the event carries what its kind needs.
func TestNotifyValidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	ctx := context.Background()
	tests := []struct {
		name string
		req  *notificationv1.NotifyRequest
	}{
		{"no event id", &notificationv1.NotifyRequest{Kind: notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED, UserId: "u"}},
		{"no kind", &notificationv1.NotifyRequest{EventId: "e", UserId: "u"}},
		{"order kind without order", &notificationv1.NotifyRequest{EventId: "e", Kind: notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED, UserId: "u"}},
		{"shipment kind with an order", &notificationv1.NotifyRequest{
			EventId: "e", Kind: notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED, UserId: "u",
			Subject: &notificationv1.NotifyRequest_Order{Order: paidOrder("u", "EMP-1")},
		}},
		{"link without url", &notificationv1.NotifyRequest{
			EventId: "e", Kind: notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET, UserId: "u",
			Subject: &notificationv1.NotifyRequest_Link{Link: &notificationv1.AccountLink{Email: "a@example.com"}},
		}},
	}
	for _, tc := range tests {
		if _, err := e.notify.Notify(ctx, tc.req); code(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", tc.name, err)
		}
	}
}

func outcomes(d *notificationv1.Delivery) []string {
	var out []string
	for _, a := range d.GetAttemptsLog() {
		out = append(out, a.GetOutcome())
	}
	return out
}

func ids(ds []*notificationv1.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.GetId())
	}
	slices.Sort(out)
	return out
}

// Changes to different settings made at once, from two devices, both stay.
func TestConcurrentPreferenceChangesBothStay(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		for round := range 5 {
			who := e.register(t, fmt.Sprintf("Lee %d", round), nil)
			prefs := e.preferences(who)
			var wg sync.WaitGroup
			for _, path := range []string{"email_marketing", "sms_marketing"} {
				wg.Go(func() {
					_, err := prefs.UpdatePreferences(ctx, &notificationv1.UpdatePreferencesRequest{
						Preferences: &notificationv1.Preferences{EmailMarketing: true, SmsMarketing: true},
						UpdateMask:  []string{path},
					})
					if err != nil {
						t.Errorf("UpdatePreferences %s: %v", path, err)
					}
				})
			}
			wg.Wait()
			got, err := prefs.GetPreferences(ctx, &notificationv1.GetPreferencesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if p := got.GetPreferences(); !p.GetEmailMarketing() || !p.GetSmsMarketing() || !p.GetSmsShippingUpdates() {
				t.Errorf("round %d: preferences %+v; want both changes and the untouched default", round, p)
			}
		}
	})
}
