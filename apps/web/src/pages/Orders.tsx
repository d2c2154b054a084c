import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { Price } from "../components/Price";
import { RequireAuth } from "../components/RequireAuth";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorMessage, Loading } from "../components/Status";
import { USER_KEY } from "../lib/auth";
import { formatDate } from "../lib/orders";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

function OrderList() {
  usePageTitle("Your orders");
  const orders = useInfiniteQuery({
    queryKey: [USER_KEY, "orders"],
    initialPageParam: "",
    queryFn: ({ pageParam }) => shop.orders.listMyOrders({ pageSize: 20, pageToken: pageParam }),
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const list = orders.data?.pages.flatMap((p) => p.orders) ?? [];
  return (
    <div className="page narrow">
      <h1>Your orders</h1>
      {orders.isPending ? (
        <Loading label="Loading your orders…" />
      ) : orders.error ? (
        <ErrorMessage error={orders.error} onRetry={() => void orders.refetch()} />
      ) : list.length === 0 ? (
        <p>You haven't ordered anything yet. <Link to="/">Start shopping</Link></p>
      ) : (
        <ul className="orders" aria-label="Orders">
          {list.map((o) => (
            <li key={o.id}>
              <Link to={`/orders/${o.id}`} className="order-row">
                <span className="order-row__number">Order {o.number}</span>
                <span className="muted">{formatDate(o.createTime && timestampDate(o.createTime))}</span>
                <StatusBadge status={o.status} />
                <Price money={o.total} />
              </Link>
            </li>
          ))}
        </ul>
      )}
      {orders.hasNextPage && (
        <button type="button" className="button button--secondary" disabled={orders.isFetchingNextPage}
          onClick={() => void orders.fetchNextPage()}>
          {orders.isFetchingNextPage ? "Loading…" : "Older orders"}
        </button>
      )}
    </div>
  );
}

export default function Orders() {
  return (
    <RequireAuth>
      <OrderList />
    </RequireAuth>
  );
}
