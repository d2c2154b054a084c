import { OrderStatus, ShipmentStatus } from "@emporium/sdk";

const LABELS: Record<OrderStatus, string> = {
  [OrderStatus.UNSPECIFIED]: "Unknown",
  [OrderStatus.PENDING_PAYMENT]: "Awaiting payment",
  [OrderStatus.PAID]: "Paid",
  [OrderStatus.FULFILLING]: "Being packed",
  [OrderStatus.SHIPPED]: "Shipped",
  [OrderStatus.DELIVERED]: "Delivered",
  [OrderStatus.CANCELED]: "Canceled",
  [OrderStatus.REFUNDED]: "Refunded",
  [OrderStatus.PARTIALLY_REFUNDED]: "Partly refunded",
};

export function statusLabel(s: OrderStatus): string {
  return LABELS[s] ?? "Unknown";
}

export const PARCEL_LABELS: Record<ShipmentStatus, string> = {
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

export const CARRIERS: Record<string, string> = { ups: "UPS", fedex: "FedEx", local: "Local courier" };

/** Orders that may have parcels: everything from packing on. */
export const MAY_HAVE_PARCELS = new Set([
  OrderStatus.FULFILLING,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
  OrderStatus.PARTIALLY_REFUNDED,
  OrderStatus.REFUNDED,
]);

/** A google.protobuf.Timestamp as a Date (seconds are a bigint). */
export function toDate(ts: { seconds: bigint; nanos: number } | undefined): Date | undefined {
  return ts ? new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)) : undefined;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function formatDate(d: Date | undefined): string {
  return d ? dateFormat.format(d) : "";
}
