package chaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status numbers as stored (the enums of the protos).
const (
	orderPendingPayment = 1
	orderCanceled       = 6
	paymentSucceeded    = 4
	reservationHeld     = 1
	reservationCommit   = 2
	reservationReleased = 3
	deliverySent        = 3
	channelEmail        = 1
	channelSMS          = 2
)

// paidStatuses are the order statuses of a paid, not refunded order.
const paidStatuses = "(2, 3, 4, 5)"

// riverSchemas are the schemas with River job tables.
var riverSchemas = []string{"user", "order", "payment", "shipping", "notification"}

// books is what the databases and the fakes of the SMTP relay, Twilio,
// UPS and Stripe say after a scenario.
type books struct {
	orders, paid, canceled, pending int // orders in the database
	payments, charged               int // payments, and succeeded ones
	deliveries, emailsReceived      int
	smsReceived, labelsSold         int
	orphanHolds                     int // reservations no order refers to (a checkout that stopped between hold and order)

	lost            []string // acknowledged orders that do not exist
	paidLost        []string // acknowledged payments whose order is not paid
	doubleCharged   []string // orders with more than one succeeded payment
	chargedNotPaid  []string // succeeded payments whose order is not paid
	paidNotCharged  []string // paid orders without a succeeded payment
	wrongAmount     []string // succeeded payments not of the order's total
	heldPastWindow  []string // reservations still held after their expiry
	notCommitted    []string // paid orders whose stock is not committed
	notReleased     []string // canceled orders whose stock is still out
	stuckPending    []string // unpaid orders past their window
	queued          []string // River jobs not done, per schema and state
	notSent         []string // deliveries not sent, per status
	unnotified      []string // paid or canceled orders without a sent email
	sentTwice       []string // Message-IDs the relay received more than once
	sentNotReceived []string // sent deliveries the relay never received
	smsTwice        []string // SMS (recipient and text) Twilio accepted more than once
	smsNotReceived  []string // SMS deliveries marked sent whose sid Twilio never gave
	shippedUntexted []string // shipments with a label whose shopper got no "shipped" SMS
	labelsTwice     []string // shipments UPS sold more than one live label for (a double charge by the carrier)
	labelNotSold    []string // UPS shipments recorded with a tracking number UPS has no live label for
	stripeTwice     []string // orders with more than one unrefunded succeeded intent at Stripe
	stripeNotPaid   []string // unrefunded succeeded intents at Stripe whose order is not paid
	paidNotAtStripe []string // succeeded payments whose intent did not succeed at Stripe
	stripeCharged   int      // succeeded intents at Stripe
	scheduledLater  int      // River jobs scheduled for later (not due)
	unconfirmed     int      // deliveries left dead, outcome unknown, that the relay received once
	// unconfirmedMissing are deliveries left dead with their outcome
	// unknown that the relay never received: the connection broke between
	// the end of the message and the relay's answer, before the relay had
	// it. SMTP cannot tell this from the relay having it; the shop does not
	// risk a second copy and lists them for staff (dead, with the reason).
	unconfirmedMissing []string
	// doubleChargesTotal is how many orders were charged twice, in our
	// books or at Stripe.
	doubleChargesTotal int
	// sms are the messages the Twilio fake accepted, by smsKey.
	sms map[string]int
}

// smsKey names an SMS by recipient and text: Twilio's API carries no
// reference of ours, and each text names its order and tracking number.
func smsKey(to, text string) string { return to + "\x00" + text }

// smsBooks checks the SMS deliveries against what Twilio accepted: each
// accepted once, each sent one by the sid Twilio gave, and every parcel
// with a label texted to its shopper (sent, or left unconfirmed and
// received once).
func (w *world) smsBooks(ctx context.Context, b *books) error {
	msgs := w.twilio.Messages()
	b.smsReceived = len(msgs)
	b.sms = map[string]int{}
	sids := map[string]bool{}
	for _, m := range msgs {
		b.sms[smsKey(m.To, m.Body)]++
		sids[m.Sid] = true
	}
	for _, m := range msgs {
		if n := b.sms[smsKey(m.To, m.Body)]; n > 1 {
			b.smsTwice = append(b.smsTwice, fmt.Sprintf("%q ×%d", m.Body, n))
		}
	}
	b.smsTwice = slices.Compact(slices.Sorted(slices.Values(b.smsTwice)))
	rows, err := w.db.QueryContext(ctx, `SELECT id, provider_id FROM notification.deliveries WHERE status = 3 AND channel = 2`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, sid string
		if err := rows.Scan(&id, &sid); err != nil {
			return err
		}
		if !sids[sid] {
			b.smsNotReceived = append(b.smsNotReceived, fmt.Sprintf("%s (sid %q)", id, sid))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.shippedUntexted, err = w.queryStrings(ctx, `SELECT s.id FROM shipping.shipments s
		WHERE s.tracking_number <> '' AND s.status <> 8 AND NOT EXISTS
		(SELECT 1 FROM notification.deliveries d WHERE d.channel = 2 AND d.status IN (3, 5)
		 AND d.event_id = 'shipment:' || s.id || ':shipped')`)
	return err
}

// stripeBooks checks the payments against what Stripe charged: at most
// one unrefunded charge per order, each of a paid order, and every payment
// the shop holds succeeded a charge at Stripe. status is every order's.
func (w *world) stripeBooks(ctx context.Context, b *books, status map[string]int) error {
	charged := map[string]int{} // order → unrefunded succeeded intents
	succeeded := map[string]bool{}
	for _, in := range w.stripe.Intents() {
		if in.Status != "succeeded" {
			continue
		}
		b.stripeCharged++
		succeeded[in.ID] = true
		if in.Refunded >= in.Amount {
			continue
		}
		charged[in.OrderID]++
		if st := status[in.OrderID]; st < 2 || st > 5 {
			b.stripeNotPaid = append(b.stripeNotPaid, fmt.Sprintf("%s (order %s, status %d)", in.ID, in.OrderID, st))
		}
	}
	for id, n := range charged {
		if n > 1 {
			b.stripeTwice = append(b.stripeTwice, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	ids, err := w.queryStrings(ctx, `SELECT provider_payment_id FROM payment.payments WHERE status = 4`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !succeeded[id] {
			b.paidNotAtStripe = append(b.paidNotAtStripe, id)
		}
	}
	return nil
}

// labelBooks checks the labels against what UPS sold: one live label per
// shipment, and every UPS shipment's tracking number one of them.
func (w *world) labelBooks(ctx context.Context, b *books) error {
	live := map[string]int{}          // reference (our shipment id) → live labels
	liveTracking := map[string]bool{} // tracking numbers of live labels
	labels := w.ups.Labels()
	b.labelsSold = len(labels)
	for _, l := range labels {
		if !l.Voided {
			live[l.Reference]++
			liveTracking[l.TrackingNumber] = true
		}
	}
	for ref, n := range live {
		if n > 1 {
			b.labelsTwice = append(b.labelsTwice, fmt.Sprintf("%s ×%d", ref, n))
		}
	}
	recorded, err := w.queryStrings(ctx, `SELECT id || ' ' || tracking_number FROM shipping.shipments
		WHERE carrier = 'ups' AND tracking_number <> '' AND status <> 8`)
	if err != nil {
		return err
	}
	for _, r := range recorded {
		_, tracking, _ := strings.Cut(r, " ")
		if !liveTracking[tracking] {
			b.labelNotSold = append(b.labelNotSold, r)
		}
	}
	return nil
}

// problems lists every broken promise, empty when the books are right.
func (b *books) problems() []string {
	var out []string
	add := func(what string, ids []string) {
		if len(ids) > 0 {
			show := ids
			if len(show) > 5 {
				show = append(show[:5:5], fmt.Sprintf("… %d more", len(ids)-5))
			}
			out = append(out, fmt.Sprintf("%s: %d (%s)", what, len(ids), strings.Join(show, ", ")))
		}
	}
	add("acknowledged orders missing (lost)", b.lost)
	add("acknowledged payments whose order is not paid", b.paidLost)
	add("orders charged twice", b.doubleCharged)
	add("succeeded payments whose order is not paid", b.chargedNotPaid)
	add("paid orders without a succeeded payment", b.paidNotCharged)
	add("payments of another amount than the order's total", b.wrongAmount)
	add("stock held past its payment window", b.heldPastWindow)
	add("paid orders whose stock is not committed", b.notCommitted)
	add("canceled orders whose stock was not released", b.notReleased)
	add("unpaid orders left pending past their window", b.stuckPending)
	add("River jobs not done", b.queued)
	add("deliveries not sent", b.notSent)
	add("paid or canceled orders without a sent email", b.unnotified)
	add("emails received more than once", b.sentTwice)
	add("deliveries marked sent that the relay never received", b.sentNotReceived)
	add("SMS received more than once", b.smsTwice)
	add("SMS deliveries marked sent that Twilio never accepted", b.smsNotReceived)
	add("shipments whose shopper got no shipped SMS", b.shippedUntexted)
	add("shipments with more than one live UPS label (bought twice)", b.labelsTwice)
	add("UPS shipments whose label UPS did not sell or voided", b.labelNotSold)
	add("orders charged twice at Stripe", b.stripeTwice)
	add("charges at Stripe whose order is not paid", b.stripeNotPaid)
	add("succeeded payments whose intent did not succeed at Stripe", b.paidNotAtStripe)
	return out
}

// queryStrings runs a query whose rows are one text column.
func (w *world) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(strings.Fields(q), " "), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (w *world) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := w.db.QueryRowContext(ctx, q, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", strings.Join(strings.Fields(q), " "), err)
	}
	return n, nil
}

// outstanding is the work the shop has still to do: River jobs due or
// being retried, unpaid orders within their window, stock holds past their
// expiry, deliveries not final.
func (w *world) outstanding(ctx context.Context) (int, error) {
	total := 0
	for _, s := range riverSchemas {
		n, err := w.count(ctx, fmt.Sprintf(`SELECT count(*) FROM %q.river_job
			WHERE state IN ('available', 'running', 'retryable', 'pending')
			   OR (state = 'scheduled' AND scheduled_at <= now())`, s))
		if err != nil {
			return 0, err
		}
		total += n
	}
	n, err := w.count(ctx, `SELECT count(*) FROM "order".orders WHERE status = $1`, orderPendingPayment)
	if err != nil {
		return 0, err
	}
	total += n
	// Holds past their expiry, for the product service's sweeper (every 30 s).
	n, err = w.count(ctx, `SELECT count(*) FROM product.stock_reservations
		WHERE status = 1 AND expires_at <= (extract(epoch FROM now()) * 1e6)::bigint`)
	if err != nil {
		return 0, err
	}
	total += n
	n, err = w.count(ctx, `SELECT count(*) FROM notification.deliveries WHERE status IN (1, 2, 4)`)
	if err != nil {
		return 0, err
	}
	return total + n, nil
}

// settle waits until the shop has nothing left to do (at most within),
// and returns how long that took.
func (w *world) settle(within time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last int
	var lastErr error
	for {
		n, err := w.outstanding(ctx)
		if err == nil && n == 0 {
			w.settledAt = time.Now()
			return time.Since(start), nil
		}
		last, lastErr = n, err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return time.Since(start), lastErr
			}
			return time.Since(start), fmt.Errorf("%d pieces of work still outstanding after %s", last, within)
		case <-time.After(time.Second):
		}
	}
}

// checkBooks reads the books: the acknowledged orders against the
// databases, and the sent deliveries against what the relay received.
func (w *world) checkBooks(acked map[string]bool) (*books, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := &books{}
	var err error
	counts := []struct {
		dst *int
		q   string
	}{
		{&b.orders, `SELECT count(*) FROM "order".orders`},
		{&b.paid, `SELECT count(*) FROM "order".orders WHERE status IN ` + paidStatuses},
		{&b.canceled, `SELECT count(*) FROM "order".orders WHERE status = 6`},
		{&b.pending, `SELECT count(*) FROM "order".orders WHERE status = 1`},
		{&b.payments, `SELECT count(*) FROM payment.payments`},
		{&b.orphanHolds, `SELECT count(*) FROM product.stock_reservations r
			WHERE NOT EXISTS (SELECT 1 FROM "order".orders o WHERE o.reservation_id = r.id)`},
		{&b.charged, `SELECT count(*) FROM payment.payments WHERE status = 4`},
		{&b.deliveries, `SELECT count(*) FROM notification.deliveries`},
	}
	for _, c := range counts {
		if *c.dst, err = w.count(ctx, c.q); err != nil {
			return nil, err
		}
	}

	status := map[string]int{}
	rows, err := w.db.QueryContext(ctx, `SELECT id, status FROM "order".orders`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var st int
		if err := rows.Scan(&id, &st); err != nil {
			rows.Close()
			return nil, err
		}
		status[id] = st
	}
	rows.Close()
	for id, paid := range acked {
		st, ok := status[id]
		switch {
		case !ok:
			b.lost = append(b.lost, id)
		case paid && !(st >= 2 && st <= 5):
			b.paidLost = append(b.paidLost, fmt.Sprintf("%s (status %d)", id, st))
		}
	}

	lists := []struct {
		dst *[]string
		q   string
	}{
		{&b.doubleCharged, `SELECT order_id FROM payment.payments WHERE status = 4 GROUP BY order_id HAVING count(*) > 1`},
		{&b.chargedNotPaid, `SELECT p.order_id FROM payment.payments p JOIN "order".orders o ON o.id = p.order_id
			WHERE p.status = 4 AND p.refunded < p.amount AND o.status NOT IN ` + paidStatuses},
		{&b.paidNotCharged, `SELECT o.id FROM "order".orders o WHERE o.status IN ` + paidStatuses + ` AND NOT EXISTS
			(SELECT 1 FROM payment.payments p WHERE p.order_id = o.id AND p.status = 4)`},
		{&b.wrongAmount, `SELECT p.order_id FROM payment.payments p JOIN "order".orders o ON o.id = p.order_id
			WHERE p.status = 4 AND (p.amount <> o.total OR p.currency <> o.currency)`},
		{&b.heldPastWindow, `SELECT id FROM product.stock_reservations
			WHERE status = 1 AND expires_at < (extract(epoch FROM now()) * 1e6)::bigint - 10000000`},
		{&b.notCommitted, `SELECT o.id FROM "order".orders o JOIN product.stock_reservations r ON r.id = o.reservation_id
			WHERE o.status IN ` + paidStatuses + ` AND r.status <> 2`},
		{&b.notReleased, `SELECT o.id FROM "order".orders o JOIN product.stock_reservations r ON r.id = o.reservation_id
			WHERE o.status = 6 AND r.status NOT IN (3, 4)`},
		{&b.stuckPending, `SELECT id FROM "order".orders
			WHERE status = 1 AND expires_at < (extract(epoch FROM now()) * 1e6)::bigint - 30000000`},
		{&b.unnotified, `SELECT o.id FROM "order".orders o WHERE (o.status IN ` + paidStatuses + ` OR o.status = 6) AND NOT EXISTS
			(SELECT 1 FROM notification.deliveries d WHERE d.channel = 1 AND d.status IN (3, 5) AND d.event_id IN
			 ('order:' || o.id || ':confirmed', 'order:' || o.id || ':canceled'))`},
	}
	for _, l := range lists {
		if *l.dst, err = w.queryStrings(ctx, l.q); err != nil {
			return nil, err
		}
	}
	for _, s := range riverSchemas {
		// Jobs that came due after the shop settled (the expiry checks of
		// the last orders, say) are new work, not work left over.
		q, err := w.queryStrings(ctx, fmt.Sprintf(`SELECT state::text || ' ' || kind || ': ' || count(*)::text FROM %q.river_job
			WHERE state = 'discarded'
			   OR (state IN ('available', 'running', 'retryable', 'pending', 'scheduled') AND scheduled_at <= $1)
			GROUP BY state, kind`, s), w.settledAt)
		if err != nil {
			return nil, err
		}
		for _, x := range q {
			b.queued = append(b.queued, s+" "+x)
		}
		n, err := w.count(ctx, fmt.Sprintf(`SELECT count(*) FROM %q.river_job WHERE state = 'scheduled' AND scheduled_at > now()`, s))
		if err != nil {
			return nil, err
		}
		b.scheduledLater += n
	}

	// Every sent delivery reached the relay once, by its Message-ID.
	received := map[string]int{}
	msgs := w.smtp.Messages()
	b.emailsReceived = len(msgs)
	for _, m := range msgs {
		id := strings.Trim(m.Header.Get("Message-Id"), "<>")
		id, _, _ = strings.Cut(id, "@")
		received[id]++
	}
	for id, n := range received {
		if n > 1 {
			b.sentTwice = append(b.sentTwice, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	sent, err := w.queryStrings(ctx, `SELECT id FROM notification.deliveries WHERE status = 3 AND channel = 1`)
	if err != nil {
		return nil, err
	}
	for _, id := range sent {
		if received[id] == 0 {
			b.sentNotReceived = append(b.sentNotReceived, id)
		}
	}
	if err := w.smsBooks(ctx, b); err != nil {
		return nil, err
	}
	if err := w.labelBooks(ctx, b); err != nil {
		return nil, err
	}
	if err := w.stripeBooks(ctx, b, status); err != nil {
		return nil, err
	}
	// A delivery whose attempt ended without its outcome recorded (the
	// process or the database went away between the send and the write) is
	// not sent again, so that nobody gets it twice: it is left dead for
	// staff to check. It counts as delivered once if the relay has it.
	rows, err = w.db.QueryContext(ctx, `SELECT id, status, last_error, channel, recipient, text FROM notification.deliveries WHERE status <> 3`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, lastErr, to, text string
		var st, ch int
		if err := rows.Scan(&id, &st, &lastErr, &ch, &to, &text); err != nil {
			return nil, err
		}
		got := received[id]
		if ch == channelSMS {
			got = b.sms[smsKey(to, text)]
		}
		if st == 5 && strings.Contains(lastErr, "without recording") {
			switch got {
			case 1:
				b.unconfirmed++
				continue
			case 0:
				b.unconfirmedMissing = append(b.unconfirmedMissing, id)
				continue
			}
		}
		b.notSent = append(b.notSent, fmt.Sprintf("%s (status %d: %s)", id, st, lastErr))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	twice := map[string]bool{}
	for _, id := range b.doubleCharged {
		twice[id] = true
	}
	for _, s := range b.stripeTwice {
		id, _, _ := strings.Cut(s, " ")
		twice[id] = true
	}
	b.doubleChargesTotal = len(twice)
	for _, l := range [][]string{b.lost, b.paidLost, b.doubleCharged, b.queued, b.sentTwice, b.smsTwice, b.labelsTwice} {
		sort.Strings(l)
	}
	return b, nil
}
