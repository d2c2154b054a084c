import { timestampDate } from "@bufbuild/protobuf/wkt";
import { OrderStatus, ShipmentStatus, type Order, type Shipment } from "@emporium/sdk";
import { useQuery } from "@tanstack/react-query";
import { USER_KEY } from "../lib/auth";
import { formatDate } from "../lib/orders";
import { shop } from "../lib/shop";
import { ErrorMessage } from "./Status";

const PARCEL_LABELS: Record<ShipmentStatus, string> = {
  [ShipmentStatus.UNSPECIFIED]: "Unknown",
  [ShipmentStatus.PENDING]: "Label being made",
  [ShipmentStatus.LABEL_CREATED]: "Label created",
  [ShipmentStatus.IN_TRANSIT]: "On its way",
  [ShipmentStatus.OUT_FOR_DELIVERY]: "Out for delivery",
  [ShipmentStatus.DELIVERED]: "Delivered",
  [ShipmentStatus.EXCEPTION]: "Delayed",
  [ShipmentStatus.RETURNED]: "Returned to us",
  [ShipmentStatus.VOIDED]: "Canceled",
};

const CARRIERS: Record<string, string> = { ups: "UPS", fedex: "FedEx", local: "Local courier" };

const FINAL = new Set([ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.VOIDED]);

// Orders that may have parcels: everything from packing on.
const SHIPPING = new Set([
  OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
  OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED,
]);

function Parcel({ shipment, titles, n }: { shipment: Shipment; titles: Map<string, string>; n: number }) {
  const titleId = `parcel-${shipment.id}`;
  const events = [...shipment.events].reverse(); // newest first
  return (
    <li className="parcel" aria-labelledby={titleId}>
      <h3 id={titleId}>
        Parcel {n} · {PARCEL_LABELS[shipment.status] ?? "Unknown"}
      </h3>
      <p className="muted small">
        {CARRIERS[shipment.carrier] ?? shipment.carrier} · {shipment.service} · tracking{" "}
        {shipment.trackingUrl ? (
          <a href={shipment.trackingUrl} target="_blank" rel="noreferrer">{shipment.trackingNumber}</a>
        ) : (
          <span>{shipment.trackingNumber}</span>
        )}
      </p>
      <p className="small">
        {shipment.items.map((i) => `${titles.get(i.sku) ?? i.sku} × ${Number(i.quantity)}`).join(", ")}
      </p>
      {events.length > 0 && (
        <ol className="timeline" aria-label={`Tracking of parcel ${n}`}>
          {events.map((e, i) => (
            <li key={i}>
              <strong>{e.description || PARCEL_LABELS[e.status]}</strong>
              <span className="muted"> · {formatDate(e.time && timestampDate(e.time))}</span>
              {e.location && <div className="muted small">{e.location}</div>}
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

/** The parcels an order ships in, with their tracking, once it has any. */
export function Parcels({ order }: { order: Order }) {
  const enabled = SHIPPING.has(order.status);
  const { data, error, refetch } = useQuery({
    queryKey: [USER_KEY, "order", order.id, "parcels"],
    queryFn: async () => (await shop.shipping.listOrderShipments({ orderId: order.id })).shipments,
    enabled,
    // Parcels on their way move; look again now and then while the page is open.
    refetchInterval: (q) => (q.state.data?.some((s) => !FINAL.has(s.status)) ? 60_000 : false),
  });
  if (!enabled) return null;
  if (error) return <ErrorMessage error={error} onRetry={() => void refetch()} />;
  const parcels = (data ?? []).filter((s) => s.status !== ShipmentStatus.VOIDED);
  if (parcels.length === 0) return null;
  const titles = new Map(order.lines.map((l) => [l.sku, `${l.title} (${l.variantTitle})`]));
  return (
    <section aria-labelledby="parcels-title">
      <h2 id="parcels-title">{parcels.length === 1 ? "Your parcel" : `Your ${parcels.length} parcels`}</h2>
      <ul className="parcels">
        {parcels.map((s, i) => <Parcel key={s.id} shipment={s} titles={titles} n={i + 1} />)}
      </ul>
    </section>
  );
}
