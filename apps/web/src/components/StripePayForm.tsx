import { OrderStatus, type GetPaymentConfigResponse } from "@emporium/sdk";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
import type { Stripe, StripeElementsOptions } from "@stripe/stripe-js";
// The pure entry point loads Stripe.js (from Stripe's host, as PCI DSS
// wants) when loadStripe is called, not when this module is imported.
import { loadStripe } from "@stripe/stripe-js/pure";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { shop } from "../lib/shop";
import { usePaidOrder } from "../lib/usePaidOrder";
import type { PayFormProps } from "./PayForm";
import { ErrorMessage, Loading } from "./Status";

const loaded = new Map<string, Promise<Stripe | null>>();

/** Stripe.js for a publishable key, loaded once per page. */
function stripeFor(publishableKey: string): Promise<Stripe | null> {
  let p = loaded.get(publishableKey);
  if (!p) {
    p = loadStripe(publishableKey);
    loaded.set(publishableKey, p);
  }
  return p;
}

type Props = PayFormProps & {
  config: GetPaymentConfigResponse;
  /** Stripe.js, or a stand-in for tests; default: loaded with config.publishableKey. */
  stripe?: Stripe | Promise<Stripe | null>;
};

/**
 * Stripe's Payment Element: the card form (and Apple Pay, Google Pay where
 * the shop's domain is registered) is Stripe's own, in Stripe's iframes, so
 * no card detail touches the shop. The element starts without an intent
 * (Stripe's deferred mode, so the order is made only when the shopper
 * pays); on Pay, the order's PaymentIntent (opened by Checkout) is confirmed
 * with stripe.confirmPayment and its client secret, Stripe runs 3-D Secure
 * or the wallet's sheet, and the outcome is read from the order, which the
 * webhook and the payment outbox move.
 */
export default function StripePayForm({ config, stripe, ...props }: Props) {
  const currency = (props.amount?.currency || config.currency).toLowerCase();
  const amount = Number(props.amount?.amount ?? 0n);
  const options = useMemo<StripeElementsOptions>(
    () => ({ mode: "payment", amount, currency, paymentMethodTypes: config.paymentMethodTypes }),
    [amount, currency, config.paymentMethodTypes],
  );
  const instance = useMemo(() => stripe ?? stripeFor(config.publishableKey), [stripe, config.publishableKey]);
  return (
    <Elements stripe={instance} options={options}>
      <StripeForm {...props} />
    </Elements>
  );
}

type Result = { kind: "invalid"; message: string } | { kind: "declined"; message: string } | { kind: "confirmed"; orderId: string };

function StripeForm({ orderId, amountLabel, onPaid }: PayFormProps) {
  const stripe = useStripe();
  const elements = useElements();
  const [ready, setReady] = useState(false);
  const [result, setResult] = useState<Result>();
  const [waitingFor, setWaitingFor] = useState<string>();
  const alertRef = useRef<HTMLDivElement>(null);

  const pay = useMutation({
    mutationFn: async (): Promise<Result> => {
      // Stripe checks the form first: nothing is ordered with a bad card.
      const { error: invalid } = await elements!.submit();
      if (invalid) return { kind: "invalid", message: invalid.message ?? "Check your payment details." };
      const id = await orderId();
      const { order, payment } = await shop.checkout.getOrderPayment({ orderId: id });
      if (order && order.status !== OrderStatus.PENDING_PAYMENT) return { kind: "confirmed", orderId: id };
      if (!payment?.clientSecret) throw new Error("This order cannot be paid any more.");
      const { error } = await stripe!.confirmPayment({
        elements: elements!,
        clientSecret: payment.clientSecret,
        // Where Stripe sends the shopper back after a redirect (some banks, some wallets).
        confirmParams: { return_url: `${window.location.origin}/orders/${id}` },
        redirect: "if_required",
      });
      if (error) {
        // Card errors and validation errors are written for shoppers; others are not.
        const message =
          error.type === "card_error" || error.type === "validation_error"
            ? error.message ?? "Your card was declined."
            : "The payment didn't go through. Try again, or use another payment method.";
        return { kind: "declined", message: `${message} Nothing was charged.` };
      }
      return { kind: "confirmed", orderId: id };
    },
    onSuccess: (r) => {
      setResult(r);
      if (r.kind === "confirmed") setWaitingFor(r.orderId);
    },
  });

  // Stripe has confirmed; the order is paid when its webhook arrives.
  usePaidOrder(waitingFor, onPaid);

  useEffect(() => {
    if (result?.kind === "declined" || pay.error) alertRef.current?.focus();
  }, [result, pay.error]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!stripe || !elements) return;
    setResult(undefined);
    pay.mutate();
  };

  return (
    <form className="pay" onSubmit={submit} aria-label="Payment" noValidate>
      <PaymentElement onReady={() => setReady(true)} options={{ layout: "tabs" }} />
      {!ready && <Loading label="Loading the payment form…" />}
      <div ref={alertRef} tabIndex={-1}>
        {(result?.kind === "declined" || result?.kind === "invalid") && (
          <div className="notice notice--error" role="alert">
            <p>{result.message}</p>
          </div>
        )}
        {pay.error && <ErrorMessage error={pay.error} />}
      </div>
      {waitingFor && <Loading label="Confirming your payment… this page updates by itself." />}
      <button type="submit" className="button button--primary button--block" disabled={!stripe || !elements || pay.isPending || waitingFor !== undefined}>
        {pay.isPending ? "Paying…" : `Pay ${amountLabel}`}
      </button>
    </form>
  );
}
