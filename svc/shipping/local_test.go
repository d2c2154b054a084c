package shipping

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf/pdftest"
)

var (
	localStart = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	testFrom   = &typev1.PostalAddress{Name: "Emporium", Line1: "1 Market St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}
	testTo     = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "500 Fifth Ave", City: "New York", Region: "NY", PostalCode: "10110", Country: "US"}
)

func newTestLocal(t *testing.T) (*LocalCarrier, *clocktest.Clock) {
	t.Helper()
	clock := clocktest.New(localStart)
	c, err := NewLocalCarrier(LocalConfig{Now: clock.Now, PickupAfter: time.Hour, OutForDeliveryAfter: 20 * time.Hour, DeliveredAfter: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

func localRequest(ref string) LabelRequest {
	return LabelRequest{Reference: ref, Service: "standard", From: testFrom, To: testTo, WeightGrams: 1200, Currency: "USD", DeclaredValue: 2500}
}

func TestLocalCreateLabel(t *testing.T) {
	t.Parallel()
	c, _ := newTestLocal(t)
	ctx := context.Background()
	l, err := c.CreateLabel(ctx, localRequest("sh_1"))
	if err != nil {
		t.Fatal(err)
	}
	if !localNumber.MatchString(l.TrackingNumber) || !strings.HasPrefix(l.TrackingNumber, "LC1796292000") {
		t.Errorf("tracking number %q does not carry the creation time", l.TrackingNumber)
	}
	rates, err := c.Quote(ctx, Parcel{Destination: &typev1.Destination{Country: "US"}, WeightGrams: 1200, Subtotal: 2500})
	if err != nil {
		t.Fatal(err)
	}
	var want int64 = -1
	for _, r := range rates {
		if r.Service == "standard" {
			want = r.Price
		}
	}
	if l.Cost != want || l.Currency != "USD" {
		t.Errorf("cost %d %s, want the quoted %d USD", l.Cost, l.Currency, want)
	}
	text := pdftest.Text(t, l.PDF)
	for _, s := range []string{l.TrackingNumber, "REF: sh_1", "Ada Lovelace", "New York NY 10110", "1 Market St", "STANDARD"} {
		if !strings.Contains(text, s) {
			t.Errorf("label lacks %q:\n%s", s, text)
		}
	}
	again, err := c.CreateLabel(ctx, localRequest("sh_1"))
	if err != nil || again.TrackingNumber != l.TrackingNumber {
		t.Errorf("second CreateLabel for the same reference: %q, %v; want the first label %q", again.TrackingNumber, err, l.TrackingNumber)
	}
	other, err := c.CreateLabel(ctx, localRequest("sh_2"))
	if err != nil || other.TrackingNumber == l.TrackingNumber {
		t.Errorf("another reference got %q, %v", other.TrackingNumber, err)
	}
}

func TestLocalCreateLabelRefuses(t *testing.T) {
	t.Parallel()
	c, _ := newTestLocal(t)
	with := func(f func(r *LabelRequest)) LabelRequest {
		r := localRequest("sh_x")
		r.To = proto.Clone(testTo).(*typev1.PostalAddress)
		f(&r)
		return r
	}
	tests := []struct {
		name string
		req  LabelRequest
		want string
	}{
		{"no reference", with(func(r *LabelRequest) { r.Reference = " " }), "reference"},
		{"no recipient", with(func(r *LabelRequest) { r.To = nil }), "to: address required"},
		{"no street", with(func(r *LabelRequest) { r.To.Line1 = "" }), "to.line1"},
		{"no city", with(func(r *LabelRequest) { r.To.City = " " }), "to.city"},
		{"short ZIP", with(func(r *LabelRequest) { r.To.PostalCode = "1011" }), "to.postal_code"},
		{"ZIP with letters", with(func(r *LabelRequest) { r.To.PostalCode = "1011A" }), "to.postal_code"},
		{"bad Canadian code", with(func(r *LabelRequest) { r.To.Country, r.To.PostalCode = "CA", "12345" }), "to.postal_code"},
		{"bad country", with(func(r *LabelRequest) { r.To.Country = "USA" }), "to.country"},
		{"bad sender", with(func(r *LabelRequest) { r.From = &typev1.PostalAddress{Name: "x"} }), "from.line1"},
		{"unknown service", with(func(r *LabelRequest) { r.Service = "teleport" }), "service"},
		{"too heavy", with(func(r *LabelRequest) { r.WeightGrams = MaxWeightGrams + 1 }), "weight_grams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.CreateLabel(context.Background(), tt.req)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CreateLabel = %v, want Invalid about %s", err, tt.want)
			}
		})
	}
	// ZIP+4 and a Canadian code in either spacing are fine.
	for _, to := range []*typev1.PostalAddress{
		{Name: "A", Line1: "1 St", City: "NYC", PostalCode: "10110-1234", Country: "US"},
		{Name: "A", Line1: "1 St", City: "Toronto", PostalCode: "m5v 3l9", Country: "CA"},
	} {
		r := localRequest("ok-" + to.PostalCode)
		r.To = to
		if _, err := c.CreateLabel(context.Background(), r); err != nil {
			t.Errorf("CreateLabel to %s: %v", to.PostalCode, err)
		}
	}
}

func TestLocalTrackAdvancesWithTime(t *testing.T) {
	t.Parallel()
	c, clock := newTestLocal(t)
	ctx := context.Background()
	l, err := c.CreateLabel(ctx, localRequest("sh_track"))
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Status TrackingStatus
		Desc   string
	}
	steps := func() []step {
		t.Helper()
		tr, err := c.Track(ctx, l.TrackingNumber)
		if err != nil {
			t.Fatal(err)
		}
		if tr.TrackingNumber != l.TrackingNumber || !tr.EstimatedDelivery.Equal(localStart.Add(24*time.Hour)) {
			t.Errorf("tracking %+v", tr)
		}
		var out []step
		for i, e := range tr.Events {
			if i > 0 && e.Time.Before(tr.Events[i-1].Time) {
				t.Errorf("events out of order: %v", tr.Events)
			}
			out = append(out, step{e.Status, e.Description})
		}
		if last := out[len(out)-1]; last.Status != tr.Status {
			t.Errorf("status %v, but the last event is %v", tr.Status, last.Status)
		}
		return out
	}
	created := step{TrackingLabelCreated, "Shipping label created"}
	picked := step{TrackingInTransit, "Picked up"}
	departed := step{TrackingInTransit, "Departed facility"}
	out := step{TrackingOutForDelivery, "Out for delivery"}
	delivered := step{TrackingDelivered, "Delivered"}
	for _, tt := range []struct {
		advance time.Duration
		want    []step
	}{
		{0, []step{created}},
		{59 * time.Minute, []step{created}},
		{time.Minute, []step{created, picked}},
		{10 * time.Hour, []step{created, picked, departed}},
		{10 * time.Hour, []step{created, picked, departed, out}},
		{4 * time.Hour, []step{created, picked, departed, out, delivered}},
		{30 * 24 * time.Hour, []step{created, picked, departed, out, delivered}},
	} {
		clock.Advance(tt.advance)
		if diff := cmp.Diff(tt.want, steps()); diff != "" {
			t.Fatalf("at %v (-want +got):\n%s", clock.Now().Sub(localStart), diff)
		}
	}
	// A fresh carrier (a restart) tracks the same parcel the same way.
	restarted, err := NewLocalCarrier(LocalConfig{Now: clock.Now, PickupAfter: time.Hour, OutForDeliveryAfter: 20 * time.Hour, DeliveredAfter: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := restarted.Track(ctx, l.TrackingNumber)
	if err != nil || tr.Status != TrackingDelivered || !tr.Status.Final() {
		t.Errorf("after a restart: %v, %v; want delivered", tr.Status, err)
	}
}

func TestLocalTrackRefuses(t *testing.T) {
	t.Parallel()
	c, _ := newTestLocal(t)
	l, err := c.CreateLabel(context.Background(), localRequest("sh_bad"))
	if err != nil {
		t.Fatal(err)
	}
	// Swap two different neighbouring digits: the check digits catch it.
	b := []byte(l.TrackingNumber)
	for i := 2; i+1 < len(b); i++ {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			break
		}
	}
	for _, tt := range []struct {
		number string
		kind   errs.Kind
	}{
		{"", errs.Invalid},
		{"1Z999AA10123456784", errs.Invalid},
		{"LC12345", errs.Invalid},
		{string(b), errs.NotFound},
	} {
		if _, err := c.Track(context.Background(), tt.number); !errs.Is(err, tt.kind) {
			t.Errorf("Track(%q) = %v, want kind %v", tt.number, err, tt.kind)
		}
	}
}

func TestLocalVoid(t *testing.T) {
	t.Parallel()
	c, clock := newTestLocal(t)
	ctx := context.Background()
	early, err := c.CreateLabel(ctx, localRequest("sh_void"))
	if err != nil {
		t.Fatal(err)
	}
	late, err := c.CreateLabel(ctx, localRequest("sh_late"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	if err := c.Void(ctx, early); err != nil {
		t.Fatalf("Void before pickup: %v", err)
	}
	if err := c.Void(ctx, early); err != nil {
		t.Fatalf("Void again: %v", err)
	}
	clock.Advance(2 * time.Hour)
	if err := c.Void(ctx, early); err != nil {
		t.Errorf("Void of a voided label after its pickup time: %v", err)
	}
	if err := c.Void(ctx, late); !errs.Is(err, errs.FailedPrecondition) {
		t.Errorf("Void after pickup = %v, want FailedPrecondition", err)
	}
	tr, err := c.Track(ctx, early.TrackingNumber)
	if err != nil || tr.Status != TrackingLabelCreated || len(tr.Events) != 1 || !tr.EstimatedDelivery.IsZero() {
		t.Errorf("a voided label tracks as %+v, %v; want it never picked up", tr, err)
	}
}

func TestNewLocalCarrierChecksSchedule(t *testing.T) {
	t.Parallel()
	if _, err := NewLocalCarrier(LocalConfig{PickupAfter: time.Hour, OutForDeliveryAfter: time.Minute}); err == nil {
		t.Error("out for delivery before pickup was accepted")
	}
	c, err := NewLocalCarrier(LocalConfig{})
	if err != nil || c.Name() != "local" {
		t.Errorf("defaults: %v, %v", c, err)
	}
}

func TestLocalConfigParseSchedule(t *testing.T) {
	t.Parallel()
	var cfg LocalConfig
	if err := cfg.ParseSchedule("2m, 10m,15m"); err != nil {
		t.Fatal(err)
	}
	if got := []time.Duration{cfg.PickupAfter, cfg.OutForDeliveryAfter, cfg.DeliveredAfter}; !cmp.Equal(got, []time.Duration{2 * time.Minute, 10 * time.Minute, 15 * time.Minute}) {
		t.Errorf("schedule %v", got)
	}
	for _, bad := range []string{"", "2m,10m", "2m,10m,15m,20m", "2m,x,15m", "10m,2m,15m", "0s,1m,2m", "-1m,1m,2m"} {
		if err := (&LocalConfig{}).ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}
