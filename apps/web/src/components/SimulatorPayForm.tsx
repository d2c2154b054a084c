import { createSimulatorPaymentMethod, SimulatorCardError } from "@emporium/sdk";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { newKey } from "../lib/ids";
import { cardDigits, looksLikeCard, payOutcome, type PayOutcome } from "../lib/payment";
import { shop } from "../lib/shop";
import { usePaidOrder } from "../lib/usePaidOrder";
import { Field } from "./Field";
import type { PayFormProps } from "./PayForm";
import { ErrorMessage, Loading } from "./Status";

const TEST_CARDS = [
  ["4242 4242 4242 4242", "pays"],
  ["4000 0000 0000 0002", "is declined"],
  ["4000 0027 6000 3184", "asks your bank to confirm (3-D Secure)"],
] as const;

/**
 * The payment simulator's card form. Like Stripe.js with Stripe, it sends
 * the card number only to the simulator's tokenization endpoint, and pays
 * with the payment method id it answers: the dev checkout takes the path
 * production takes.
 */
export function SimulatorPayForm({ orderId, amountLabel, onPaid, tokenizePath }: PayFormProps & { tokenizePath: string }) {
  const [card, setCard] = useState("");
  const [cardError, setCardError] = useState<string>();
  const [outcome, setOutcome] = useState<PayOutcome>();
  const [waitingFor, setWaitingFor] = useState<string>(); // an order waiting for 3-D Secure
  const alertRef = useRef<HTMLDivElement>(null);

  const pay = useMutation({
    mutationFn: async (number: string) => {
      let paymentMethod: string;
      try {
        paymentMethod = (await createSimulatorPaymentMethod({ baseUrl: "/", tokenizePath }, { number })).id;
      } catch (err) {
        if (err instanceof SimulatorCardError && err.param === "card[number]") return { cardError: err.message };
        throw err;
      }
      const id = await orderId();
      const res = await shop.checkout.payOrder({
        orderId: id,
        paymentMethod,
        idempotencyKey: newKey(),
        returnUrl: `${window.location.origin}/orders/${id}`,
      });
      return { id, outcome: payOutcome(res) };
    },
    onSuccess: (res) => {
      if ("cardError" in res) {
        setCardError(res.cardError);
        return;
      }
      const { id, outcome } = res;
      setOutcome(outcome);
      if (outcome.kind === "paid") onPaid(outcome.orderId);
      if (outcome.kind === "authenticate" || outcome.kind === "processing") setWaitingFor(id);
    },
  });

  // While the bank (the simulator's 3-D Secure page) confirms, watch the order.
  usePaidOrder(waitingFor, onPaid);

  useEffect(() => {
    if (outcome?.kind === "declined" || pay.error) alertRef.current?.focus();
  }, [outcome, pay.error]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
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
    <form className="pay" onSubmit={submit} aria-label="Payment" noValidate>
      <Field
        label="Card number"
        name="card"
        inputMode="numeric"
        autoComplete="cc-number"
        value={card}
        onChange={(e) => setCard(e.target.value)}
        error={cardError}
        hint="Test cards: no real money moves."
      />
      <ul className="test-cards">
        {TEST_CARDS.map(([number, what]) => (
          <li key={number}>
            <button type="button" className="link-button" onClick={() => setCard(number)}>
              {number}
            </button>{" "}
            {what}
          </li>
        ))}
      </ul>
      <div ref={alertRef} tabIndex={-1}>
        {outcome?.kind === "declined" && (
          <div className="notice notice--error" role="alert">
            <p>{outcome.message}</p>
          </div>
        )}
        {pay.error && <ErrorMessage error={pay.error} />}
      </div>
      {outcome?.kind === "authenticate" && (
        <div className="notice notice--info" role="status">
          <p>Your bank wants to confirm this payment.</p>
          <p>
            <a href={outcome.url} target="_blank" rel="noopener" className="button button--secondary">
              Confirm with your bank (opens a new tab)
            </a>
          </p>
          <Loading label="Waiting for your bank… this page updates by itself." />
        </div>
      )}
      {outcome?.kind === "processing" && <Loading label="Your payment is being processed…" />}
      <button type="submit" className="button button--primary button--block" disabled={pay.isPending}>
        {pay.isPending ? "Paying…" : `Pay ${amountLabel}`}
      </button>
    </form>
  );
}
