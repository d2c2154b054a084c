import { cardDigits, createSimulatorPaymentMethod, looksLikeCard, payOutcome, SimulatorCardError, type PayOutcome } from "@emporium/sdk";
import { useMutation } from "@tanstack/react-query";
import * as Linking from "expo-linking";
import * as WebBrowser from "expo-web-browser";
import { useState } from "react";
import { Text, View } from "react-native";
import { newKey } from "../lib/ids";
import { usePaidOrder } from "../lib/orderWatch";
import { retryTransient } from "../lib/retry";
import { baseUrl, shop } from "../lib/shop";
import { space } from "./theme";
import { Button, ErrorNotice, Loading, Notice, TextField, styles as ui } from "./ui";

export const TEST_CARDS = [
  ["4242 4242 4242 4242", "pays"],
  ["4000 0000 0000 0002", "is declined"],
  ["4000 0027 6000 3184", "asks your bank to confirm (3-D Secure)"],
] as const;

/**
 * The bank's page, told where to send the shopper back: the payment
 * simulator's page links to return_url (the app's own link) when the
 * challenge is over, which ends the auth session in the app.
 */
export function bankPage(url: string, returnUrl: string): string {
  if (!returnUrl) return url;
  return `${url}${url.includes("?") ? "&" : "?"}return_url=${encodeURIComponent(returnUrl)}`;
}

export interface PayFormProps {
  /** The order to pay; placing it first when there is none yet. */
  orderId: () => Promise<string>;
  amountLabel: string;
  onPaid: (orderId: string) => void;
  tokenizePath: string;
}

/**
 * The payment simulator's card form. Like Stripe's SDK, it sends the card
 * number only to the simulator's tokenizer and pays with the payment method
 * id it answers. Each tap on Pay is one attempt with its own idempotency key;
 * a timeout or dropped connection retries that attempt with the same key, so
 * a flaky network never charges twice.
 */
export function PayForm({ orderId, amountLabel, onPaid, tokenizePath }: PayFormProps) {
  const [card, setCard] = useState("");
  const [cardError, setCardError] = useState<string>();
  const [outcome, setOutcome] = useState<PayOutcome>();
  const [waitingFor, setWaitingFor] = useState<string>();
  const [returnTo, setReturnTo] = useState<string>();

  const pay = useMutation({
    mutationFn: async (number: string) => {
      let paymentMethod: string;
      try {
        paymentMethod = (await createSimulatorPaymentMethod({ baseUrl, tokenizePath }, { number })).id;
      } catch (err) {
        if (err instanceof SimulatorCardError && err.param === "card[number]") return { cardError: err.message };
        throw err;
      }
      const id = await orderId();
      const idempotencyKey = newKey(); // this attempt's, reused by its retries
      const returnUrl = Linking.createURL(`/orders/${id}`);
      const res = await retryTransient(() => shop.checkout.payOrder({ orderId: id, paymentMethod, idempotencyKey, returnUrl }));
      return { id, outcome: payOutcome(res), returnUrl };
    },
    onSuccess: async (res) => {
      if ("cardError" in res) {
        setCardError(res.cardError);
        return;
      }
      const { id, outcome } = res;
      setOutcome(outcome);
      if (outcome.kind === "paid") onPaid(outcome.orderId);
      if (outcome.kind === "processing") setWaitingFor(id);
      if (outcome.kind === "authenticate") {
        setWaitingFor(id);
        setReturnTo(res.returnUrl);
        // The bank's page in an auth session; it closes when the page sends
        // the shopper back to the app's link, or when they close it. Either
        // way the order itself says whether the payment went through.
        await WebBrowser.openAuthSessionAsync(bankPage(outcome.url, res.returnUrl), res.returnUrl).catch(() => undefined);
      }
    },
  });

  // While the bank (the simulator's 3-D Secure page) confirms, watch the order.
  usePaidOrder(waitingFor, onPaid);

  const submit = () => {
    const digits = cardDigits(card);
    if (!looksLikeCard(digits)) {
      setCardError("Enter the 16-digit number on the front of your card.");
      return;
    }
    setCardError(undefined);
    setOutcome(undefined);
    pay.mutate(digits);
  };

  return (
    <View style={{ gap: space.s }}>
      <TextField
        label="Card number"
        value={card}
        onChangeText={setCard}
        keyboardType="number-pad"
        autoComplete="cc-number"
        textContentType="creditCardNumber"
        error={cardError}
        hint="Test cards: no real money moves."
      />
      {TEST_CARDS.map(([number, what]) => (
        <View key={number} style={ui.row}>
          <Button kind="link" label={number} accessibilityLabel={`Use test card ${number}, which ${what}`} onPress={() => setCard(number)} />
          <Text style={{ flex: 1 }}>{what}</Text>
        </View>
      ))}
      {outcome?.kind === "declined" ? (
        <Notice tone="error">
          <Text>{outcome.message}</Text>
        </Notice>
      ) : null}
      {pay.isError ? <ErrorNotice error={pay.error} onRetry={submit} /> : null}
      {outcome?.kind === "authenticate" ? (
        <Notice tone="info">
          <Text>Your bank wants to confirm this payment.</Text>
          <Button
            kind="secondary"
            label="Confirm with your bank"
            onPress={() => void WebBrowser.openAuthSessionAsync(bankPage(outcome.url, returnTo ?? ""), returnTo).catch(() => undefined)}
          />
          <Loading label="Waiting for your bank… this screen updates by itself." />
        </Notice>
      ) : null}
      {outcome?.kind === "processing" ? <Loading label="Your payment is being processed…" /> : null}
      <Button label={pay.isPending ? "Paying…" : `Pay ${amountLabel}`} busy={pay.isPending} onPress={submit} />
    </View>
  );
}
