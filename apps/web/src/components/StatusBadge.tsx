import type { OrderStatus } from "@emporium/sdk";
import { statusLabel, statusTone } from "../lib/orders";

export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`status status--${statusTone(status)}`}>{statusLabel(status)}</span>;
}
