package shipping_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// scriptedCarrier stands in for a carrier's API (an external system) in
// these tests, behind the real LabelCarrier port: it validates addresses,
// sells labels idempotently by reference, refuses to void picked-up
// parcels, and moves each parcel along a fixed timeline on the test's
// clock. Unlike the local carrier (which TestShippingWithTheLocalCarrier
// uses) it can be made unavailable and refuses heavy parcels, so tests
// reach every failure path.
type scriptedCarrier struct {
	name  string
	clock *clocktest.Clock

	mu          sync.Mutex
	unavailable bool
	// newLabelEachBuy makes every purchase a new label, as UPS and FedEx
	// do, instead of answering a repeated reference with its label.
	newLabelEachBuy bool
	held            *heldRead          // the next CreateLabel waits for its release
	parcels         map[string]*parcel // by tracking number
	byRef           map[string]string  // reference → tracking number
	buys            map[string]int     // label purchases by reference
	voided          []string           // tracking numbers
}

type parcel struct {
	label   shipping.Label
	created time.Time
	voided  bool
}

// The timeline of every parcel, from its label's purchase.
var timeline = []struct {
	after  time.Duration
	status shipping.TrackingStatus
	what   string
	where  string
}{
	{0, shipping.TrackingLabelCreated, "Shipment information received", ""},
	{2 * time.Hour, shipping.TrackingInTransit, "Picked up", "Oakland, CA, US"},
	{8 * time.Hour, shipping.TrackingInTransit, "Departed facility", "Sacramento, CA, US"},
	{20 * time.Hour, shipping.TrackingOutForDelivery, "Out for delivery", "San Francisco, CA, US"},
	{26 * time.Hour, shipping.TrackingDelivered, "Delivered, front door", "San Francisco, CA, US"},
}

// pickup is when a parcel leaves the shop: its label can no longer be voided.
const pickup = 2 * time.Hour

// maxParcelGrams is the heaviest parcel the carrier takes.
const maxParcelGrams = 30_000

// badPostalCode is a postal code the carrier's address check refuses.
const badPostalCode = "00000"

func newScriptedCarrier(name string, clock *clocktest.Clock) *scriptedCarrier {
	return &scriptedCarrier{name: name, clock: clock, parcels: map[string]*parcel{}, byRef: map[string]string{}, buys: map[string]int{}}
}

func (c *scriptedCarrier) Name() string { return c.name }

func (c *scriptedCarrier) Quote(_ context.Context, p shipping.Parcel) ([]shipping.Rate, error) {
	if p.WeightGrams > maxParcelGrams {
		return nil, nil
	}
	return []shipping.Rate{{Service: "ground", Name: "Ground", Price: 900, MinDays: 2, MaxDays: 4}}, nil
}

func (c *scriptedCarrier) setUnavailable(v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unavailable = v
}

// holdNextLabel stops the next CreateLabel: arrived is closed when it is
// called, and it goes on when release is closed.
func (c *scriptedCarrier) holdNextLabel() (arrived, release chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = &heldRead{arrived: make(chan struct{}), release: make(chan struct{})}
	return c.held.arrived, c.held.release
}

func (c *scriptedCarrier) CreateLabel(_ context.Context, req shipping.LabelRequest) (shipping.Label, error) {
	c.mu.Lock()
	if h := c.held; h != nil {
		c.held = nil
		c.mu.Unlock()
		close(h.arrived)
		<-h.release
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	switch {
	case c.unavailable:
		return shipping.Label{}, errs.Unavailablef("carrier %s: 503 Service Unavailable", c.name)
	case req.To.GetPostalCode() == badPostalCode:
		return shipping.Label{}, errs.Invalidf("address not found: postal code %s does not exist in %s", badPostalCode, req.To.GetCountry())
	case req.WeightGrams > maxParcelGrams:
		return shipping.Label{}, errs.Invalidf("parcel weighs %d g, over the limit of %d g", req.WeightGrams, maxParcelGrams)
	case req.From == nil || req.Reference == "" || req.Service != "ground":
		return shipping.Label{}, errs.Invalidf("bad label request %+v", req)
	}
	c.buys[req.Reference]++
	if tn, ok := c.byRef[req.Reference]; ok && !c.newLabelEachBuy {
		return c.parcels[tn].label, nil
	}
	tn := fmt.Sprintf("%s%08d", strings.ToUpper(c.name[:2]), len(c.parcels)+1)
	l := shipping.Label{TrackingNumber: tn, CarrierShipmentID: "cs-" + tn, PDF: []byte("%PDF-1.4 label " + tn), Cost: 850, Currency: req.Currency}
	c.parcels[tn] = &parcel{label: l, created: c.clock.Now()}
	c.byRef[req.Reference] = tn
	return l, nil
}

func (c *scriptedCarrier) Void(_ context.Context, l shipping.Label) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.parcels[l.TrackingNumber]
	switch {
	case !ok:
		return errs.NotFoundf("no label %s", l.TrackingNumber)
	case p.voided:
		return nil
	case c.clock.Now().Sub(p.created) >= pickup:
		return errs.FailedPreconditionf("label %s was already picked up", l.TrackingNumber)
	}
	p.voided = true
	c.voided = append(c.voided, l.TrackingNumber)
	return nil
}

func (c *scriptedCarrier) Track(_ context.Context, number string) (shipping.Tracking, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unavailable {
		return shipping.Tracking{}, errs.Unavailablef("carrier %s: 503 Service Unavailable", c.name)
	}
	p, ok := c.parcels[number]
	if !ok {
		return shipping.Tracking{}, errs.NotFoundf("no parcel %s", number)
	}
	tr := shipping.Tracking{TrackingNumber: number}
	for _, step := range timeline {
		at := p.created.Add(step.after)
		if at.After(c.clock.Now()) || (p.voided && step.after > 0) {
			break
		}
		tr.Events = append(tr.Events, shipping.TrackingEvent{Time: at, Status: step.status, Description: step.what, Location: step.where})
		tr.Status = step.status
	}
	return tr, nil
}

// purchases is how many times a label was bought for each reference.
func (c *scriptedCarrier) purchases() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.buys {
		out[k] = v
	}
	return out
}

func (c *scriptedCarrier) voidedLabels() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.voided...)
}

// memLabels keeps labels in memory beside the scripted carrier, so tests
// can count them.
type memLabels struct {
	mu    sync.Mutex
	blobs map[string]memBlob
}

type memBlob struct {
	ct   string
	data []byte
}

func (m *memLabels) Put(_ context.Context, key, ct string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blobs == nil {
		m.blobs = map[string]memBlob{}
	}
	m.blobs[key] = memBlob{ct, append([]byte(nil), data...)}
	return nil
}

func (m *memLabels) Get(_ context.Context, key string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[key]
	if !ok {
		return nil, "", errs.NotFoundf("no blob %q", key)
	}
	return b.data, b.ct, nil
}

func (m *memLabels) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, key)
	return nil
}

func (m *memLabels) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.blobs)
}
