import { useQuery } from "@tanstack/react-query";
import { shop } from "./shop";

/** How the shop takes payments (the provider, Stripe's publishable key): it changes only with a redeploy. */
export function usePaymentConfig() {
  return useQuery({
    queryKey: ["payment-config"],
    queryFn: () => shop.payments.getPaymentConfig({}),
    staleTime: Infinity,
  });
}
