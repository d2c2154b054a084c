// Stripe.js comes only from Stripe's host, which these machines cannot
// reach: the official <Elements> gets a stand-in Stripe object (its
// `stripe` prop takes one), and the tests check what the form asks of it.
// The stand-in cannot check Stripe itself: its iframes, card validation,
// 3-D Secure or wallet sheets.
import type { GetPaymentConfigResponse, Money } from "@emporium/sdk";
import type { Stripe } from "@stripe/stripe-js";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeEdge, money, type Call } from "../test/fakeEdge";
import { renderWithProviders } from "../test/renderApp";
import { PayForm } from "./PayForm";
import StripePayForm from "./StripePayForm";

// Stripe.js's loader, which would fetch the script from js.stripe.com: it
// hands out the stand-in instead, and records the key it was asked for.
const loadStripe = vi.hoisted(() => vi.fn());
vi.mock("@stripe/stripe-js/pure", () => ({ loadStripe }));

const config = {
  provider: "stripe",
  publishableKey: "pk_test_shop",
  paymentMethodTypes: ["card"],
  currency: "USD",
  tokenizePath: "",
} as unknown as GetPaymentConfigResponse;
const total = { amount: 25900n, currency: "USD" } as Money;
const pending = { id: "o1", number: "EMP-7K2M9QX4", status: "ORDER_STATUS_PENDING_PAYMENT", total: money(25900) };
const SECRET = "pi_123_secret_abc";

// What confirmPayment answers with redirect: "if_required": an error, or the intent.
type ConfirmResult = { error: unknown; paymentIntent: unknown };

/** A stand-in for Stripe.js: what <Elements> and <PaymentElement> call, recorded. */
function standInStripe(confirm: () => Partial<ConfirmResult>, submit: () => { error?: { message: string } } = () => ({})) {
  const element = {
    mount: vi.fn(),
    on: vi.fn((event: string, cb: (e: unknown) => void) => {
      if (event === "ready") setTimeout(() => cb({ elementType: "payment" }), 0);
    }),
    off: vi.fn(),
    update: vi.fn(),
    destroy: vi.fn(),
  };
  const elements = { create: vi.fn(() => element), update: vi.fn(), getElement: vi.fn(() => element), submit: vi.fn(async () => submit()) };
  const stripe = {
    elements: vi.fn(() => elements),
    confirmPayment: vi.fn(async () => confirm()),
    // What react-stripe-js checks to tell Stripe.js from anything else.
    createToken: vi.fn(),
    createPaymentMethod: vi.fn(),
    confirmCardPayment: vi.fn(),
  };
  return { stripe: stripe as unknown as Stripe, raw: stripe, elements, element };
}

function edge(paidAfter: () => boolean): Call[] {
  return fakeEdge({
    "CheckoutService/GetOrderPayment": () => ({
      order: pending,
      payment: { id: "pay1", status: "PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD", provider: "stripe", providerPaymentId: "pi_123", clientSecret: SECRET },
    }),
    "OrderService/GetOrder": () => ({ order: { ...pending, status: paidAfter() ? "ORDER_STATUS_PAID" : "ORDER_STATUS_PENDING_PAYMENT" } }),
  });
}

describe("StripePayForm", () => {
  it("mounts the Payment Element, confirms the order's intent with Stripe, and waits for the order to be paid", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    const orderId = vi.fn(async () => "o1");
    let webhookArrived = false;
    const calls = edge(() => webhookArrived);
    const { stripe, raw, elements, element } = standInStripe(() => ({ paymentIntent: { id: "pi_123", status: "succeeded" } as never }));
    renderWithProviders(<StripePayForm config={config} stripe={stripe} orderId={orderId} amount={total} amountLabel="$259.00" onPaid={onPaid} />);

    await user.click(await screen.findByRole("button", { name: "Pay $259.00" }));
    // Deferred mode: the element exists before the order and its intent do.
    expect(raw.elements).toHaveBeenCalledWith(expect.objectContaining({ mode: "payment", amount: 25900, currency: "usd", paymentMethodTypes: ["card"] }));
    expect(elements.create).toHaveBeenCalledWith("payment", expect.objectContaining({ layout: "tabs" }));
    expect(element.mount).toHaveBeenCalled();
    await vi.waitFor(() => expect(raw.confirmPayment).toHaveBeenCalledTimes(1));
    expect(elements.submit).toHaveBeenCalledTimes(1);
    expect(raw.confirmPayment).toHaveBeenCalledWith({
      elements,
      clientSecret: SECRET,
      confirmParams: { return_url: `${window.location.origin}/orders/o1` },
      redirect: "if_required",
    });
    expect(await screen.findByText(/Confirming your payment/)).toBeInTheDocument();
    expect(onPaid).not.toHaveBeenCalled(); // the order says when it is paid, not the browser

    webhookArrived = true;
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 8000 });
    expect(calls.map((c) => c.method)).not.toContain("CheckoutService/PayOrder"); // Stripe.js confirmed it
    expect(calls.find((c) => c.method === "CheckoutService/GetOrderPayment")!.body).toEqual({ orderId: "o1" });
  });

  it("shows Stripe's decline, charges nothing, and confirms again with the same intent", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    const answers: Partial<ConfirmResult>[] = [
      { error: { type: "card_error", code: "card_declined", message: "Your card was declined." } as never },
      { paymentIntent: { id: "pi_123", status: "succeeded" } as never },
    ];
    edge(() => true);
    const { stripe, raw } = standInStripe(() => answers.shift()!);
    renderWithProviders(<StripePayForm config={config} stripe={stripe} orderId={async () => "o1"} amount={total} amountLabel="$259.00" onPaid={onPaid} />);

    await user.click(await screen.findByRole("button", { name: "Pay $259.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card was declined. Nothing was charged.");
    expect(onPaid).not.toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 8000 });
    expect(raw.confirmPayment.mock.calls.map((c) => (c as unknown as [{ clientSecret: string }])[0].clientSecret)).toEqual([SECRET, SECRET]);
  });

  it("stops at Stripe's own form check: no order, no confirm", async () => {
    const user = userEvent.setup();
    const orderId = vi.fn(async () => "o1");
    const calls = edge(() => false);
    const { stripe, raw } = standInStripe(
      () => ({}),
      () => ({ error: { message: "Your card number is incomplete." } }),
    );
    renderWithProviders(<StripePayForm config={config} stripe={stripe} orderId={orderId} amount={total} amountLabel="$259.00" onPaid={() => {}} />);

    await user.click(await screen.findByRole("button", { name: "Pay $259.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card number is incomplete.");
    expect(orderId).not.toHaveBeenCalled();
    expect(raw.confirmPayment).not.toHaveBeenCalled();
    expect(calls).toHaveLength(0);
  });

  it("is what PayForm shows on a Stripe shop, with Stripe.js loaded for the shop's publishable key", async () => {
    const { stripe, elements } = standInStripe(() => ({}));
    loadStripe.mockResolvedValue(stripe);
    const calls = fakeEdge({
      "PaymentService/GetPaymentConfig": () => ({ provider: "stripe", publishableKey: "pk_test_shop", paymentMethodTypes: ["card"], currency: "USD" }),
    });
    renderWithProviders(<PayForm orderId={async () => "o1"} amount={total} amountLabel="$259.00" onPaid={() => {}} />);
    await screen.findByRole("button", { name: "Pay $259.00" });
    expect(loadStripe).toHaveBeenCalledWith("pk_test_shop");
    await vi.waitFor(() => expect(elements.create).toHaveBeenCalledWith("payment", expect.anything()));
    expect(screen.queryByLabelText("Card number")).toBeNull(); // no card field of ours
    expect(calls.map((c) => c.method)).toEqual(["PaymentService/GetPaymentConfig"]);
  });
});
