import { OrderStatus } from "@emporium/sdk";
import { PaymentSheetError, StripeProvider, useStripe } from "@stripe/stripe-react-native";
import { useMutation } from "@tanstack/react-query";
import * as Linking from "expo-linking";
import { useState } from "react";
import { Text, View } from "react-native";
import { usePaidOrder } from "../lib/orderWatch";
import { retryTransient } from "../lib/retry";
import { shop } from "../lib/shop";
import { space } from "./theme";
import { Button, ErrorNotice, Loading, Notice } from "./ui";
import type { StripePayProps } from "./stripePayProps";

export type { StripePayProps } from "./stripePayProps";

/** The name Stripe's sheet shows as the merchant. */
const MERCHANT = "Emporium";
/** Apple Pay's merchant id, as in app.json's @stripe/stripe-react-native plugin. */
const MERCHANT_ID = "merchant.com.emporiumhq.shop";
/** The app's own link scheme (app.json's expo.scheme), for returns from a bank's page. */
const URL_SCHEME = "emporium";

/**
 * Pays an order with Stripe's PaymentSheet: Stripe's own card form (and the
 * wallets and bank redirects it offers) confirms the PaymentIntent that
 * Checkout created for the order, so card details go only to Stripe. The
 * order's own state says when it is paid: Stripe's webhook and the payment
 * outbox move it, as on the web shop.
 */
export function StripePay({ publishableKey, ...props }: StripePayProps) {
  return (
    <StripeProvider publishableKey={publishableKey} merchantIdentifier={MERCHANT_ID} urlScheme={URL_SCHEME}>
      <Sheet {...props} />
    </StripeProvider>
  );
}

type Result = { kind: "canceled" } | { kind: "failed"; message: string } | { kind: "confirmed"; orderId: string };

function Sheet({ orderId, amountLabel, onPaid }: Omit<StripePayProps, "publishableKey">) {
  const { initPaymentSheet, presentPaymentSheet } = useStripe();
  const [result, setResult] = useState<Result>();
  const [waitingFor, setWaitingFor] = useState<string>();

  const pay = useMutation({
    mutationFn: async (): Promise<Result> => {
      const id = await orderId();
      const { order, payment } = await retryTransient(() => shop.checkout.getOrderPayment({ orderId: id }));
      if (order && order.status !== OrderStatus.PENDING_PAYMENT) return { kind: "confirmed", orderId: id };
      if (!payment?.clientSecret) throw new Error("This order cannot be paid any more.");
      const init = await initPaymentSheet({
        merchantDisplayName: MERCHANT,
        paymentIntentClientSecret: payment.clientSecret,
        // Where a bank's page or a redirecting payment method sends the shopper back.
        returnURL: Linking.createURL(`/orders/${id}`),
      });
      if (init.error) return { kind: "failed", message: init.error.localizedMessage ?? init.error.message };
      const { error } = await presentPaymentSheet();
      if (error?.code === PaymentSheetError.Canceled) return { kind: "canceled" };
      if (error) return { kind: "failed", message: error.localizedMessage ?? error.message };
      return { kind: "confirmed", orderId: id };
    },
    onSuccess: (r) => {
      setResult(r);
      if (r.kind === "confirmed") setWaitingFor(r.orderId);
    },
  });

  // Stripe has confirmed; the order turns paid when its webhook arrives.
  usePaidOrder(waitingFor, onPaid);

  const submit = () => {
    setResult(undefined);
    pay.mutate();
  };

  return (
    <View style={{ gap: space.s }}>
      {result?.kind === "canceled" ? (
        <Notice tone="info">
          <Text>You closed the payment form. Nothing was charged; your order is kept for you.</Text>
        </Notice>
      ) : null}
      {result?.kind === "failed" ? (
        <Notice tone="error">
          <Text>{`${result.message} Nothing was charged.`}</Text>
        </Notice>
      ) : null}
      {pay.isError ? <ErrorNotice error={pay.error} onRetry={submit} /> : null}
      {waitingFor ? <Loading label="Confirming your payment… this screen updates by itself." /> : null}
      <Button label={pay.isPending ? "Paying…" : `Pay ${amountLabel}`} busy={pay.isPending || waitingFor !== undefined} onPress={submit} />
    </View>
  );
}
