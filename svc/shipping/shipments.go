package shipping

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// labelContentType is the type of every label carriers return.
const labelContentType = "application/pdf"

// shippable are the order states whose items may ship: paid, being
// fulfilled, partly shipped (an order is SHIPPED from its first parcel),
// and paid with part of it refunded.
var shippable = []orderv1.OrderStatus{
	orderv1.OrderStatus_ORDER_STATUS_PAID,
	orderv1.OrderStatus_ORDER_STATUS_FULFILLING,
	orderv1.OrderStatus_ORDER_STATUS_SHIPPED,
	orderv1.OrderStatus_ORDER_STATUS_PARTIALLY_REFUNDED,
}

// CreateShipment implements ShippingService.
//
// Buying a label is a side effect outside our database, so the call runs in
// steps that a retry with the same idempotency_key resumes:
//
//  1. In one transaction, with the order's row locked, the parcels are
//     checked against what the order still has to ship and recorded as
//     PENDING shipments. Pending shipments count as shipped, so concurrent
//     calls cannot ship an item twice.
//  2. Outside any transaction, a label is bought for each pending shipment
//     that has none (the shipment id is the carrier's reference, which
//     carriers that support it use to make the purchase idempotent), stored
//     in Labels, and its tracking number recorded on the row.
//  3. In one transaction, the shipments become LABEL_CREATED and the jobs
//     that move the order and notify the shopper join the outbox.
//
// A crash after step 1 or between labels leaves pending rows; the retry
// finds them by key and buys only the labels still missing. Only a crash
// between a purchase and recording it (step 2, milliseconds) makes a retry
// ask the carrier again for that parcel. A carrier that refuses a parcel
// (errs.Invalid, a bad address say) ends the call: labels it already bought
// are voided, the pending rows deleted, and the caller gets
// invalid_argument with no shipment recorded.
func (s *Service) CreateShipment(ctx context.Context, req *shippingv1.CreateShipmentRequest) (*shippingv1.CreateShipmentResponse, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	carrierName, service, _ := strings.Cut(req.GetRateId(), ":")
	carrier, ok := s.labelCarriers[carrierName]
	if !ok {
		names := s.labelCarrierNames()
		if len(names) == 0 {
			return nil, errs.FailedPreconditionf("no carrier that buys labels is configured here")
		}
		return nil, errs.Invalidf("rate_id: carrier %q does not buy labels here (carriers: %s)", carrierName, strings.Join(names, ", "))
	}
	hash := createHash(req)
	rows, err := s.replayCreate(ctx, req.GetIdempotencyKey(), hash)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		if rows, err = s.recordPending(ctx, req, hash, carrierName, service); err != nil {
			return nil, err
		}
	}
	if err := s.buyLabels(ctx, carrier, rows); err != nil {
		return nil, err
	}
	if err := s.finishShipments(ctx, rows); err != nil {
		return nil, err
	}
	if rows, err = s.store.shipmentsByKey(ctx, req.GetIdempotencyKey()); err != nil {
		return nil, err
	}
	out := &shippingv1.CreateShipmentResponse{}
	for _, r := range rows {
		out.Shipments = append(out.Shipments, s.shipmentProto(r))
	}
	return out, nil
}

func (s *Service) labelCarrierNames() []string {
	var names []string
	for name := range s.labelCarriers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func createHash(req *shippingv1.CreateShipmentRequest) string {
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	return digest(clone)
}

// replayCreate returns the shipments an earlier CreateShipment with key
// recorded, or nil when there are none.
func (s *Service) replayCreate(ctx context.Context, key, hash string) ([]*shipmentRow, error) {
	rows, err := s.store.shipmentsByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	return checkReplay(rows, key, hash)
}

// checkReplay checks that rows, the shipments CreateShipment recorded with
// key, were asked for by the same request (hash); nil when there are none.
func checkReplay(rows []*shipmentRow, key, hash string) ([]*shipmentRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	if rows[0].RequestHash != hash {
		return nil, errs.Conflictf("idempotency_key %q was already used for another shipment request", key)
	}
	return rows, nil
}

// recordPending is step 1 of CreateShipment: it checks the parcels against
// the order and records them as PENDING shipments, or returns the shipments
// a concurrent call with the same key recorded first.
func (s *Service) recordPending(ctx context.Context, req *shippingv1.CreateShipmentRequest, hash, carrier, service string) ([]*shipmentRow, error) {
	o, err := s.shippableOrder(ctx, req.GetOrderId())
	if err != nil {
		return nil, err
	}
	shipTo, err := protojson.Marshal(o.GetShippingAddress())
	if err != nil {
		return nil, fmt.Errorf("encode the ship-to address: %w", err)
	}
	ordered, prices := orderedItems(o)
	asked, err := parcelItems(req.GetParcels(), ordered, o.GetNumber())
	if err != nil {
		return nil, err
	}
	now := micros(s.now())
	rows := pendingShipments(req.GetParcels(), prices, shipmentRow{
		OrderID: o.GetId(), Carrier: carrier, Service: service,
		Status: statusPending, Currency: s.currency,
		ShipTo: string(shipTo), IdempotencyKey: req.GetIdempotencyKey(), RequestHash: hash,
		CreatedAt: now, UpdatedAt: now,
	})
	orow := &orderRow{OrderID: o.GetId(), OrderNumber: o.GetNumber(), CustomerID: o.GetCustomerId(), Ordered: ordered, CreatedAt: now}
	return s.insertPending(ctx, orow, asked, rows, req.GetIdempotencyKey(), hash)
}

// shippableOrder reads the order from the order service and checks that it
// may ship: its status is one of shippable, and it has a shipping address.
func (s *Service) shippableOrder(ctx context.Context, id string) (*orderv1.Order, error) {
	res, err := s.orders.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: id})
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return nil, errs.NotFoundf("order %q not found", id)
		}
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	o := res.GetOrder()
	if !slices.Contains(shippable, o.GetStatus()) {
		return nil, errs.FailedPreconditionf("order %s is %s: only paid orders ship", o.GetNumber(), statusWords(o.GetStatus()))
	}
	if o.GetShippingAddress() == nil {
		return nil, errs.FailedPreconditionf("order %s has no shipping address", o.GetNumber())
	}
	return o, nil
}

// orderedItems sums the order's lines by SKU, and returns each SKU's unit
// price, which makes a parcel's declared value.
func orderedItems(o *orderv1.Order) (ordered map[string]orderedLine, prices map[string]int64) {
	ordered = map[string]orderedLine{}
	prices = map[string]int64{}
	for _, l := range o.GetLines() {
		line := ordered[l.GetSku()]
		line.Quantity += l.GetQuantity()
		line.Title = strings.TrimSpace(l.GetTitle() + " " + l.GetVariantTitle())
		ordered[l.GetSku()] = line
		prices[l.GetSku()] = l.GetUnitPrice().GetAmount()
	}
	return ordered, prices
}

// parcelItems checks that the parcels hold only items of the order, each
// listed once per parcel, and returns how many of each SKU they hold in
// all. Whether the order has that many left to ship is for insertPending,
// under the order's lock.
func parcelItems(parcels []*shippingv1.ParcelSpec, ordered map[string]orderedLine, orderNumber string) (map[string]int64, error) {
	asked := map[string]int64{}
	for i, p := range parcels {
		seen := map[string]bool{}
		for j, it := range p.GetItems() {
			field := fmt.Sprintf("parcels[%d].items[%d].sku", i, j)
			if _, ok := ordered[it.GetSku()]; !ok {
				return nil, errs.Invalidf("%s: order %s has no item %q", field, orderNumber, it.GetSku())
			}
			if seen[it.GetSku()] {
				return nil, errs.Invalidf("%s: %q is listed twice in the parcel; give its total quantity once", field, it.GetSku())
			}
			seen[it.GetSku()] = true
			asked[it.GetSku()] += it.GetQuantity()
		}
	}
	return asked, nil
}

// pendingShipments makes one shipment row of base per parcel, with a new
// id, the parcel's size and items, and their declared value.
func pendingShipments(parcels []*shippingv1.ParcelSpec, prices map[string]int64, base shipmentRow) []*shipmentRow {
	var rows []*shipmentRow
	for i, p := range parcels {
		r := base
		r.ID, r.ParcelIndex, r.WeightGrams = newID(), i, p.GetWeightGrams()
		r.LengthMM, r.WidthMM, r.HeightMM = p.GetDimensions().GetLengthMm(), p.GetDimensions().GetWidthMm(), p.GetDimensions().GetHeightMm()
		for _, it := range p.GetItems() {
			r.Items = append(r.Items, &itemRow{ShipmentID: r.ID, SKU: it.GetSku(), Quantity: it.GetQuantity()})
			r.DeclaredValue += prices[it.GetSku()] * it.GetQuantity()
		}
		rows = append(rows, &r)
	}
	return rows
}

// insertPending records rows in one transaction that holds the order's row
// locked, after checking that the parcels' items (asked) fit in what the
// order has left to ship, so concurrent calls for one order take turns and
// cannot ship an item twice. When a concurrent call with the same key
// recorded its shipments first, those are returned instead.
func (s *Service) insertPending(ctx context.Context, orow *orderRow, asked map[string]int64, rows []*shipmentRow, key, hash string) ([]*shipmentRow, error) {
	var replayed []*shipmentRow
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.lockOrder(ctx, tx, orow); err != nil {
			return err
		}
		// A concurrent call with the same key may have recorded its
		// shipments while this one read the order: they are the answer,
		// and counting them as shipped would refuse this repeat.
		prior, err := s.store.shipmentsByKeyTx(ctx, tx, key)
		if err == nil {
			prior, err = checkReplay(prior, key, hash)
		}
		if err != nil || prior != nil {
			replayed = prior
			return err
		}
		if err := s.checkLeftToShip(ctx, tx, orow, asked); err != nil {
			return err
		}
		for _, r := range rows {
			if err := s.store.insertShipment(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if db.IsUniqueViolation(err) {
		// A concurrent call with the same key recorded its shipments first
		// (for another order: calls for one order take turns above).
		rows, err := s.replayCreate(ctx, key, hash)
		if err == nil && rows == nil {
			err = errors.New("shipment ids collided")
		}
		return rows, err
	}
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		return replayed, nil
	}
	return rows, nil
}

// checkLeftToShip refuses parcels that hold more of an SKU than the order
// has left to ship: what was ordered, less what its shipments that are not
// voided (pending ones included) already hold.
func (s *Service) checkLeftToShip(ctx context.Context, tx bun.Tx, o *orderRow, asked map[string]int64) error {
	shipped, err := s.store.shippedQuantities(ctx, tx, o.OrderID)
	if err != nil {
		return err
	}
	var over []string
	for _, sku := range slices.Sorted(maps.Keys(asked)) {
		if shipped[sku]+asked[sku] > o.Ordered[sku].Quantity {
			over = append(over, fmt.Sprintf("%s: %d ordered, %d already in shipments, %d more asked",
				sku, o.Ordered[sku].Quantity, shipped[sku], asked[sku]))
		}
	}
	if len(over) > 0 {
		return errs.FailedPreconditionf("the parcels hold more than order %s has left to ship (%s)", o.OrderNumber, strings.Join(over, "; "))
	}
	return nil
}

// buyLabels is step 2 of CreateShipment.
func (s *Service) buyLabels(ctx context.Context, carrier LabelCarrier, rows []*shipmentRow) error {
	for _, r := range rows {
		if r.Status != statusPending || r.TrackingNumber != "" {
			continue
		}
		to := new(typev1.PostalAddress)
		if err := protojson.Unmarshal([]byte(r.ShipTo), to); err != nil {
			return fmt.Errorf("shipment %s: read the ship-to address: %w", r.ID, err)
		}
		label, err := carrier.CreateLabel(ctx, LabelRequest{
			Reference: r.ID, Service: r.Service, From: s.from, To: to, WeightGrams: r.WeightGrams,
			LengthMM: r.LengthMM, WidthMM: r.WidthMM, HeightMM: r.HeightMM,
			Currency: s.currency, DeclaredValue: r.DeclaredValue,
		})
		switch {
		case errs.Is(err, errs.Invalid):
			s.abandon(ctx, carrier, rows)
			return &errs.Error{Kind: errs.Invalid, Message: fmt.Sprintf("carrier %s refused parcel %d: %s; no shipment was created",
				carrier.Name(), r.ParcelIndex+1, safeMessage(err)), Err: err}
		case errs.Is(err, errs.Unavailable):
			// The adapter's words say whether the purchase is in doubt.
			return &errs.Error{Kind: errs.Unavailable, Err: err, Message: fmt.Sprintf(
				"carrier %s is unavailable (%s); parcel %d stays pending, and retrying with the same idempotency_key resumes it",
				carrier.Name(), safeMessage(err), r.ParcelIndex+1)}
		case err != nil:
			return fmt.Errorf("carrier %s: buy label: %w", carrier.Name(), err)
		}
		if label.TrackingNumber == "" || len(label.PDF) == 0 {
			return fmt.Errorf("carrier %s returned a label without a tracking number or PDF", carrier.Name())
		}
		key := labelKey(r.ID, label.TrackingNumber)
		if err := s.labels.Put(ctx, key, labelContentType, label.PDF); err != nil {
			return fmt.Errorf("store label of shipment %s: %w", r.ID, err)
		}
		r.TrackingNumber, r.CarrierShipmentID, r.LabelKey, r.LabelCost = label.TrackingNumber, label.CarrierShipmentID, key, label.Cost
		if label.Currency != "" {
			r.Currency = label.Currency
		}
		recorded, err := s.store.recordLabel(ctx, r, micros(s.now()))
		if err != nil {
			return err
		}
		if !recorded {
			if err := s.keepRecordedLabel(ctx, carrier, r, label); err != nil {
				return err
			}
		}
	}
	return nil
}

// labelKey is where a bought label is stored: one file per purchase, so a
// label an overlapping retry bought for the same parcel never overwrites
// the one recorded.
func labelKey(shipmentID, trackingNumber string) string {
	return "labels/" + shipmentID + "-" + trackingNumber + ".pdf"
}

// keepRecordedLabel settles a parcel for which an overlapping retry
// recorded its own label first: r becomes the recorded shipment, and the
// label this call bought, when the carrier made a new one (UPS and FedEx
// do not deduplicate by reference), is voided and its file removed, so the
// shop pays for one label and keeps the PDF that matches its tracking
// number.
func (s *Service) keepRecordedLabel(ctx context.Context, carrier LabelCarrier, r *shipmentRow, bought Label) error {
	recorded, err := s.store.shipment(ctx, r.ID)
	if err != nil {
		return err
	}
	*r = *recorded
	if bought.TrackingNumber == r.TrackingNumber {
		return nil // the carrier answered the retry with the same label
	}
	ctx = context.WithoutCancel(ctx)
	if err := carrier.Void(ctx, bought); err != nil {
		s.log.WarnContext(ctx, "could not void a label bought twice for a parcel; void it at the carrier",
			"shipment", r.ID, "carrier", carrier.Name(), "tracking_number", bought.TrackingNumber, "err", err)
	}
	if err := s.labels.Delete(ctx, labelKey(r.ID, bought.TrackingNumber)); err != nil {
		s.log.WarnContext(ctx, "could not delete a surplus label file", "shipment", r.ID, "err", err)
	}
	return nil
}

// abandon undoes a CreateShipment the carrier refused: it voids the labels
// already bought for it (best effort: an unused label costs nothing at the
// carriers we know) and deletes its pending shipments.
func (s *Service) abandon(ctx context.Context, carrier LabelCarrier, rows []*shipmentRow) {
	ctx = context.WithoutCancel(ctx)
	var ids []string
	for _, r := range rows {
		if r.Status != statusPending {
			continue
		}
		ids = append(ids, r.ID)
		if r.TrackingNumber == "" {
			continue
		}
		if err := carrier.Void(ctx, Label{TrackingNumber: r.TrackingNumber, CarrierShipmentID: r.CarrierShipmentID}); err != nil {
			s.log.WarnContext(ctx, "could not void the label of a refused shipment", "shipment", r.ID, "carrier", carrier.Name(), "err", err)
		}
		if err := s.labels.Delete(ctx, r.LabelKey); err != nil {
			s.log.WarnContext(ctx, "could not delete the label of a refused shipment", "shipment", r.ID, "err", err)
		}
	}
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.store.deletePending(ctx, tx, ids)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "could not delete refused shipments", "shipments", ids, "err", err)
	}
}

// finishShipments is step 3 of CreateShipment: the shipments with labels
// become LABEL_CREATED, which for the shop is "shipped", and their jobs
// join the outbox.
func (s *Service) finishShipments(ctx context.Context, rows []*shipmentRow) error {
	now := s.now()
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, r := range rows {
			if r.Status != statusPending || r.TrackingNumber == "" {
				continue
			}
			// Tracking events come from the carrier only (its first is
			// usually its own "label created").
			moved, err := s.store.setStatus(ctx, tx, r.ID, []int32{statusPending}, statusLabelCreated, micros(now))
			if err != nil || !moved {
				return err // !moved: a concurrent retry finished it
			}
			if err := s.shipped(ctx, tx, r.ID, r.OrderID, r.Carrier); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetShipment implements ShippingService.
func (s *Service) GetShipment(ctx context.Context, req *shippingv1.GetShipmentRequest) (*shippingv1.GetShipmentResponse, error) {
	r, err := s.visibleShipment(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &shippingv1.GetShipmentResponse{Shipment: s.shipmentProto(r)}, nil
}

// GetTracking implements ShippingService.
func (s *Service) GetTracking(ctx context.Context, req *shippingv1.GetTrackingRequest) (*shippingv1.GetTrackingResponse, error) {
	r, err := s.visibleShipment(ctx, req.GetShipmentId())
	if err != nil {
		return nil, err
	}
	return &shippingv1.GetTrackingResponse{
		ShipmentId: r.ID, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber,
		TrackingUrl: s.trackingURL(r.Carrier, r.TrackingNumber),
		Status:      shippingv1.ShipmentStatus(r.Status), Events: eventsProto(r.Events),
	}, nil
}

// visibleShipment reads a shipment the caller may see: any for staff, a
// shopper's own otherwise. Someone else's is "not found", so ids reveal
// nothing.
func (s *Service) visibleShipment(ctx context.Context, id string) (*shipmentRow, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	r, err := s.store.shipment(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(ctx, r.Order.CustomerID) {
		return nil, errs.NotFoundf("shipment %q not found", id)
	}
	return r, nil
}

// canSee reports whether the caller may see what belongs to customer.
func canSee(ctx context.Context, customer string) bool {
	p := authz.FromContext(ctx)
	return isStaff(p) || (p != nil && p.Subject != "" && p.Subject == customer)
}

func isStaff(p *authz.Principal) bool { return p.Has(authz.RoleStaff) || p.Has(authz.RoleAdmin) }

// ListOrderShipments implements ShippingService.
func (s *Service) ListOrderShipments(ctx context.Context, req *shippingv1.ListOrderShipmentsRequest) (*shippingv1.ListOrderShipmentsResponse, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	rows, err := s.store.orderShipments(ctx, req.GetOrderId())
	if err != nil {
		return nil, err
	}
	notFound := errs.NotFoundf("order %q not found", req.GetOrderId())
	if len(rows) > 0 && !canSee(ctx, rows[0].Order.CustomerID) {
		return nil, notFound
	}
	if len(rows) == 0 && !isStaff(authz.FromContext(ctx)) {
		// Nothing shipped yet: whether that is "none" or "not found"
		// depends on whose order it is.
		res, err := s.orders.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: req.GetOrderId()})
		if connect.CodeOf(err) == connect.CodeNotFound {
			return nil, notFound
		}
		if err != nil {
			return nil, fmt.Errorf("read order %s: %w", req.GetOrderId(), err)
		}
		if !canSee(ctx, res.GetOrder().GetCustomerId()) {
			return nil, notFound
		}
	}
	out := &shippingv1.ListOrderShipmentsResponse{}
	for _, r := range rows {
		out.Shipments = append(out.Shipments, s.shipmentProto(r))
	}
	return out, nil
}

// shipmentCursor is a keyset position, newest first, bound to its filters.
type shipmentCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
	Filter    string `json:"f"`
}

// ListShipments implements ShippingService.
func (s *Service) ListShipments(ctx context.Context, req *shippingv1.ListShipmentsRequest) (*shippingv1.ListShipmentsResponse, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	filter := digest(&shippingv1.ListShipmentsRequest{OrderId: req.GetOrderId(), Statuses: req.GetStatuses(), Carrier: req.GetCarrier()})[:16]
	size := paging.Size(req.GetPageSize())
	f := shipmentFilter{OrderID: req.GetOrderId(), Carrier: req.GetCarrier(), Limit: size + 1}
	if req.GetPageToken() != "" {
		var cur shipmentCursor
		if err := paging.Decode(req.GetPageToken(), &cur); err != nil {
			return nil, err
		}
		if cur.Filter != filter {
			return nil, errs.Invalidf("page_token: it was made for other filters; start again without it")
		}
		f.After = &cur
	}
	for _, v := range req.GetStatuses() {
		f.Statuses = append(f.Statuses, int32(v))
	}
	rows, err := s.store.listShipments(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &shippingv1.ListShipmentsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[size-1]
		out.NextPageToken = paging.Encode(shipmentCursor{CreatedAt: last.CreatedAt, ID: last.ID, Filter: filter})
	}
	for _, r := range rows {
		out.Shipments = append(out.Shipments, s.shipmentProto(r))
	}
	return out, nil
}

// GetLabel implements ShippingService.
func (s *Service) GetLabel(ctx context.Context, req *shippingv1.GetLabelRequest) (*shippingv1.GetLabelResponse, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	r, err := s.store.shipment(ctx, req.GetShipmentId())
	if err != nil {
		return nil, err
	}
	if r.LabelKey == "" {
		return nil, errs.FailedPreconditionf("shipment %q has no label yet: retry its CreateShipment to finish buying it", r.ID)
	}
	data, ct, err := s.labels.Get(ctx, r.LabelKey)
	if err != nil {
		return nil, fmt.Errorf("read label of shipment %s: %w", r.ID, err)
	}
	return &shippingv1.GetLabelResponse{Content: data, ContentType: ct}, nil
}

// VoidShipment implements ShippingService.
func (s *Service) VoidShipment(ctx context.Context, req *shippingv1.VoidShipmentRequest) (*shippingv1.VoidShipmentResponse, error) {
	if err := s.shipments(); err != nil {
		return nil, err
	}
	r, err := s.store.shipment(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case statusVoided:
		return &shippingv1.VoidShipmentResponse{Shipment: s.shipmentProto(r)}, nil
	case statusPending, statusLabelCreated:
	default:
		return nil, errs.FailedPreconditionf("shipment %q is %s: only a label not yet picked up can be voided", r.ID, shipmentWords(r.Status))
	}
	if r.TrackingNumber != "" {
		carrier, ok := s.labelCarriers[r.Carrier]
		if !ok {
			return nil, errs.FailedPreconditionf("carrier %q of shipment %q is not configured here", r.Carrier, r.ID)
		}
		if err := carrier.Void(ctx, Label{TrackingNumber: r.TrackingNumber, CarrierShipmentID: r.CarrierShipmentID}); err != nil {
			if errs.Is(err, errs.Unavailable) {
				return nil, &errs.Error{Kind: errs.Unavailable, Message: fmt.Sprintf("carrier %s is unavailable; try again", r.Carrier), Err: err}
			}
			if errs.Is(err, errs.Invalid) || errs.Is(err, errs.FailedPrecondition) {
				return nil, &errs.Error{Kind: errs.FailedPrecondition, Message: fmt.Sprintf("carrier %s will not void the label: %s", r.Carrier, safeMessage(err)), Err: err}
			}
			return nil, fmt.Errorf("carrier %s: void: %w", r.Carrier, err)
		}
	}
	now := micros(s.now())
	err = s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		moved, err := s.store.setStatus(ctx, tx, r.ID, []int32{statusPending, statusLabelCreated}, statusVoided, now)
		if err != nil || !moved {
			return err
		}
		return s.store.addEvents(ctx, tx, []*eventRow{{ShipmentID: r.ID, At: now, Status: statusVoided, Description: "Label voided"}})
	})
	if err != nil {
		return nil, err
	}
	if r, err = s.store.shipment(ctx, r.ID); err != nil {
		return nil, err
	}
	if r.Status != statusVoided {
		// The carrier scanned it between our read and our update.
		return nil, errs.FailedPreconditionf("shipment %q is %s: only a label not yet picked up can be voided", r.ID, shipmentWords(r.Status))
	}
	return &shippingv1.VoidShipmentResponse{Shipment: s.shipmentProto(r)}, nil
}

func (s *Service) shipmentProto(r *shipmentRow) *shippingv1.Shipment {
	return r.toProto(s.trackingURL(r.Carrier, r.TrackingNumber))
}

// shipmentWords is a status as people write it: "in transit".
func shipmentWords(st int32) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(shippingv1.ShipmentStatus(st).String(), "SHIPMENT_STATUS_")), "_", " ")
}

func statusWords(st orderv1.OrderStatus) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(st.String(), "ORDER_STATUS_")), "_", " ")
}

// safeMessage is the part of a kinded error meant for the caller.
func safeMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "no reason given"
}
