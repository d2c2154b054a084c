/** A card as a shopper types it, for {@link createSimulatorPaymentMethod}. */
export interface SimulatorCard {
  /** Digits; spaces and dashes are allowed. */
  number: string;
  expMonth?: number;
  expYear?: number;
  cvc?: string;
}

/** What the simulator answers: Stripe's PaymentMethod object, in part. */
export interface SimulatorPaymentMethod {
  /** `pm_sim_…`: what `CheckoutService.PayOrder` takes as `paymentMethod`. */
  id: string;
  card: { brand: string; last4: string; expMonth: number; expYear: number };
}

/**
 * A card the simulator refused, with Stripe's error `code` (`incorrect_number`,
 * `card_declined`, `invalid_expiry_year`, …), the form `param` it is about
 * (`card[number]`), and a `message` written for the shopper.
 */
export class SimulatorCardError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param: string,
  ) {
    super(message);
    this.name = "SimulatorCardError";
  }
}

/** Options of {@link createSimulatorPaymentMethod}. */
export interface SimulatorOptions {
  /** Where the edge answers, e.g. "http://localhost:8080" or "/" for the page's own origin. */
  baseUrl: string;
  /** `tokenizePath` from `PaymentService.GetPaymentConfig`. */
  tokenizePath: string;
  /** A custom fetch; default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Turns one of the payment simulator's test cards into a payment method id,
 * as Stripe.js does with Stripe: the card goes to the simulator's
 * tokenization endpoint (the shape of Stripe's `POST /v1/payment_methods`),
 * never to the API, and `PayOrder` gets only the id. Use it when
 * `GetPaymentConfig` says the provider is "simulator".
 */
export async function createSimulatorPaymentMethod(opts: SimulatorOptions, card: SimulatorCard): Promise<SimulatorPaymentMethod> {
  const form = new URLSearchParams({ type: "card", "card[number]": card.number });
  if (card.expMonth !== undefined) form.set("card[exp_month]", String(card.expMonth));
  if (card.expYear !== undefined) form.set("card[exp_year]", String(card.expYear));
  if (card.cvc !== undefined) form.set("card[cvc]", card.cvc);
  const url = opts.baseUrl.replace(/\/+$/, "") + opts.tokenizePath;
  const res = await (opts.fetch ?? globalThis.fetch)(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  const body = (await res.json().catch(() => undefined)) as
    | { id?: string; card?: { brand?: string; last4?: string; exp_month?: number; exp_year?: number }; error?: { code?: string; param?: string; message?: string } }
    | undefined;
  if (!res.ok || !body?.id) {
    const e = body?.error;
    throw new SimulatorCardError(e?.message ?? `the payment simulator answered ${res.status}`, e?.code ?? "api_error", e?.param ?? "");
  }
  return {
    id: body.id,
    card: { brand: body.card?.brand ?? "", last4: body.card?.last4 ?? "", expMonth: body.card?.exp_month ?? 0, expYear: body.card?.exp_year ?? 0 },
  };
}
