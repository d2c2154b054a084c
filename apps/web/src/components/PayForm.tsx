import type { Money } from "@emporium/sdk";
import { lazy, Suspense } from "react";
import { usePaymentConfig } from "../lib/paymentConfig";
import { SimulatorPayForm } from "./SimulatorPayForm";
import { ErrorMessage, Loading } from "./Status";

// Stripe's form and Stripe.js load only where a payment is taken, and only
// when the shop is on Stripe: never on the home page.
const StripePayForm = lazy(() => import("./StripePayForm"));

export interface PayFormProps {
  /** Called on submit: checkout creates the order then (once), the order page already has one. */
  orderId: () => Promise<string>;
  /** What is to pay, for the button and for Stripe's wallets (Apple Pay, Google Pay). */
  amount?: Money;
  amountLabel: string;
  onPaid: (orderId: string) => void;
}

/**
 * Takes the payment for an order with the shop's provider: Stripe's Payment
 * Element when the shop is on Stripe, the simulator's test-card form
 * otherwise. Either way the card goes to the provider, which answers a
 * payment method id; Emporium's API never sees card details.
 */
export function PayForm(props: PayFormProps) {
  const config = usePaymentConfig();
  if (config.isPending) return <Loading label="Loading the payment form…" />;
  if (config.error) return <ErrorMessage error={config.error} onRetry={() => void config.refetch()} />;
  if (config.data.provider === "stripe") {
    return (
      <Suspense fallback={<Loading label="Loading the payment form…" />}>
        <StripePayForm {...props} config={config.data} />
      </Suspense>
    );
  }
  return <SimulatorPayForm {...props} tokenizePath={config.data.tokenizePath} />;
}
