import { OrderStatus } from "@emporium/sdk";
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { USER_KEY } from "./queryClient";
import { shop } from "./shop";

/**
 * Watches order `id` (when set) until it leaves pending payment, then calls
 * onPaid: a bank's 3-D Secure approval reaches the order through the payment
 * service a moment after the shopper closes the bank's page.
 */
export function usePaidOrder(id: string | undefined, onPaid: (orderId: string) => void): void {
  const watched = useQuery({
    queryKey: [USER_KEY, "order", id],
    queryFn: async () => (await shop.orders.getOrder({ id: id! })).order,
    enabled: id !== undefined,
    refetchInterval: 1500,
  });
  const status = watched.data?.status;
  useEffect(() => {
    if (id && status !== undefined && status !== OrderStatus.PENDING_PAYMENT && status !== OrderStatus.CANCELED) {
      onPaid(id);
    }
  }, [id, status, onPaid]);
}
