package shipping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// FuzzTrackingPush posts correctly signed pushes of any content about a
// real parcel (or any tracking number, or any body) on SQLite and
// PostgreSQL. A carrier resends whatever gets a 5xx, so the answer must be
// 200 (applied or ignored) or 400 (malformed), and the parcel's tracking
// must still read afterwards.
func FuzzTrackingPush(f *testing.F) {
	type parcel struct {
		w      *world
		id     string
		number string
	}
	var parcels []parcel
	for _, engine := range []string{"sqlite", "postgres"} {
		w := newWorld(f, engine, worldOptions{})
		o := w.paidOrder(f, 1, home, map[string]int64{"RUG": 1})
		res, err := w.create(context.Background(), o.GetId(), "fuzz-ship", map[string]int64{"RUG": 1})
		if err != nil {
			f.Fatal(err)
		}
		s := res.GetShipments()[0]
		parcels = append(parcels, parcel{w, s.GetId(), s.GetTrackingNumber()})
	}
	f.Add(true, "", "in_transit", "Picked up", "Oakland, CA, US", int64(0), []byte(nil))
	f.Add(true, "delivered", "delivered", "Left at the door\x00", "", int64(-1<<62), []byte(nil))
	f.Add(false, "", "exception", string(bytes.Repeat([]byte("é"), 5000)), "\x00", int64(1<<40), []byte(nil))
	f.Add(false, "bogus", "", "", "", int64(0), []byte(`{"tracking_number":"\u0000","events":[]}`))
	f.Add(false, "", "", "", "", int64(0), []byte(`{"tracking_number":"X","events":[{"time":"0001-01-01T00:00:00Z","status":"in_transit","description":"x"}]}`))
	f.Fuzz(func(t *testing.T, ours bool, status, eventStatus, description, location string, offset int64, raw []byte) {
		for _, p := range parcels {
			now := p.w.clock.Now()
			body := raw
			if raw == nil {
				number := description
				if ours {
					number = p.number
				}
				var err error
				body, err = json.Marshal(shipping.TrackingPush{TrackingNumber: number, Status: status, Events: []shipping.PushedEvent{
					{Time: now.Add(time.Duration(offset)), Status: eventStatus, Description: description, Location: location},
				}})
				if err != nil {
					t.Skip("not JSON:", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.w.url+shipping.WebhookPath+carrierName, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(shipping.SignatureHeader, shipping.SignWebhook(webhookSecret, now, body))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("push %s: %v", body, err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusBadRequest {
				t.Fatalf("push %s: HTTP %d, want 200 or 400", body, res.StatusCode)
			}
			if _, err := p.w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: p.id}); err != nil {
				t.Fatalf("tracking after push %s: %v", body, err)
			}
		}
	})
}
