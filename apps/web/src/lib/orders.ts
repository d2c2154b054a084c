import { OrderStatus } from "@emporium/sdk";

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

export function statusTone(s: OrderStatus): "ok" | "wait" | "muted" {
  switch (s) {
    case OrderStatus.PENDING_PAYMENT:
      return "wait";
    case OrderStatus.CANCELED:
    case OrderStatus.REFUNDED:
      return "muted";
    default:
      return "ok";
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function formatDate(d: Date | undefined): string {
  return d ? dateFormat.format(d) : "";
}
