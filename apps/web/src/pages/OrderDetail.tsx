import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, formatMoney, OrderStatus, type Order } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { Parcels } from "../components/Parcels";
import { PayForm } from "../components/PayForm";
import { Price } from "../components/Price";
import { RequireAuth } from "../components/RequireAuth";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { USER_KEY } from "../lib/auth";
import { isCode } from "../lib/errors";
import { formatDate, statusLabel } from "../lib/orders";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

function History({ order }: { order: Order }) {
  return (
    <ol className="timeline" aria-label="Status history">
      {order.history.map((h, i) => (
        <li key={i}>
          <strong>{statusLabel(h.to)}</strong>
          <span className="muted"> · {formatDate(h.time && timestampDate(h.time))}</span>
          {h.reason && <div className="muted small">{h.reason}</div>}
        </li>
      ))}
    </ol>
  );
}

function OrderView() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const queryClient = useQueryClient();
  const key = [USER_KEY, "order", id];
  const { data: order, error, isPending, refetch } = useQuery({
    queryKey: key,
    queryFn: async () => (await shop.orders.getOrder({ id })).order!,
    // A payment confirmed by the bank arrives a moment later.
    refetchInterval: (q) => (q.state.data?.status === OrderStatus.PENDING_PAYMENT ? 3000 : false),
  });
  usePageTitle(order ? `Order ${order.number}` : "Order");
  const cancel = useMutation({
    mutationFn: async () => (await shop.orders.cancelOrder({ id, reason: "canceled by the customer" })).order,
    onSuccess: (o) => {
      queryClient.setQueryData(key, o);
      void queryClient.invalidateQueries({ queryKey: [USER_KEY, "orders"] });
    },
  });
  const onPaid = useCallback(() => void refetch(), [refetch]);

  if (isPending) return <Loading label="Loading your order…" />;
  if (error || !order) {
    return (
      <div className="page narrow">
        <h1>{isCode(error, Code.NotFound) ? "Order not found" : "Your order didn't load"}</h1>
        {!isCode(error, Code.NotFound) && <ErrorMessage error={error} onRetry={() => void refetch()} />}
        <Link to="/orders">All your orders</Link>
      </div>
    );
  }
  const pending = order.status === OrderStatus.PENDING_PAYMENT;
  const cancelable = pending || order.status === OrderStatus.PAID;
  const a = order.shippingAddress;
  return (
    <div className="page">
      {params.get("placed") && order.status === OrderStatus.PAID && (
        <Notice tone="success">Thank you! Your payment went through and your order is confirmed.</Notice>
      )}
      <div className="order-head">
        <h1>Order {order.number}</h1>
        <StatusBadge status={order.status} />
      </div>
      <p className="muted">Placed {formatDate(order.createTime && timestampDate(order.createTime))}</p>
      <div className="cart-layout">
        <div>
          {pending && (
            <section className="step" aria-labelledby="pay-now">
              <h2 id="pay-now">Pay for this order</h2>
              <p>
                This order is waiting for payment
                {order.expireTime && <> until {formatDate(timestampDate(order.expireTime))}; after that it is canceled</>}.
              </p>
              <PayForm orderId={async () => order.id} amount={order.total} amountLabel={formatMoney(order.total)} onPaid={onPaid} />
            </section>
          )}
          <section aria-labelledby="items-title">
            <h2 id="items-title">Items</h2>
            <ul className="summary__lines">
              {order.lines.map((l) => (
                <li key={l.sku}>
                  <span>{l.title} <span className="muted">· {l.variantTitle} × {Number(l.quantity)}</span></span>
                  <Price money={l.lineTotal} />
                </li>
              ))}
            </ul>
          </section>
          <Parcels order={order} />
          <section aria-labelledby="history-title">
            <h2 id="history-title">Status history</h2>
            <History order={order} />
          </section>
          {cancelable && (
            <p>
              <button type="button" className="button button--secondary" disabled={cancel.isPending}
                onClick={() => window.confirm(`Cancel order ${order.number}?`) && cancel.mutate()}>
                {cancel.isPending ? "Canceling…" : "Cancel this order"}
              </button>
            </p>
          )}
          {cancel.error && <ErrorMessage error={cancel.error} />}
        </div>
        <aside className="summary" aria-label="Order summary">
          <h2>Summary</h2>
          <dl className="totals">
            <div><dt>Subtotal</dt><dd><Price money={order.subtotal} /></dd></div>
            {order.discountTotal && order.discountTotal.amount > 0n && <div><dt>Discount</dt><dd>−<Price money={order.discountTotal} /></dd></div>}
            <div><dt>Shipping</dt><dd><Price money={order.shippingTotal} /></dd></div>
            <div><dt>Tax</dt><dd><Price money={order.taxTotal} /></dd></div>
            <div className="totals__total"><dt>Total</dt><dd><Price money={order.total} /></dd></div>
            {order.refundedTotal && order.refundedTotal.amount > 0n && <div><dt>Refunded</dt><dd><Price money={order.refundedTotal} /></dd></div>}
          </dl>
          {a && (
            <>
              <h3>Ships to</h3>
              <address>
                {a.name}<br />{a.line1}{a.line2 && <>, {a.line2}</>}<br />{a.city} {a.region} {a.postalCode}<br />{a.country}
              </address>
              <p className="muted small">{order.shippingRate?.serviceName}</p>
            </>
          )}
        </aside>
      </div>
    </div>
  );
}

export default function OrderDetail() {
  return (
    <RequireAuth>
      <OrderView />
    </RequireAuth>
  );
}
