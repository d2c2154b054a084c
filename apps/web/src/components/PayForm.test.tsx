import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeEdge, money, type Call, type Handler } from "../test/fakeEdge";
import { renderWithProviders } from "../test/renderApp";
import { PayForm } from "./PayForm";

const pending = { id: "o1", number: "EMP-7K2M9QX4", status: "ORDER_STATUS_PENDING_PAYMENT", total: money(25900) };
const TOKENIZE = "/payment-simulator/v1/payment_methods";

/** The simulator's side of the edge: its config and its tokenizer, which knows the three test cards. */
const simulator: Record<string, Handler> = {
  "PaymentService/GetPaymentConfig": () => ({ provider: "simulator", paymentMethodTypes: ["card"], currency: "USD", tokenizePath: TOKENIZE }),
  [TOKENIZE]: (form) => {
    const ids: Record<string, string> = {
      "4242424242424242": "pm_sim_pays",
      "4000000000000002": "pm_sim_declines",
      "4000002760003184": "pm_sim_asks",
    };
    const id = ids[String(form["card[number]"])];
    if (!id) {
      return new Response(JSON.stringify({ error: { type: "card_error", code: "card_declined", param: "card[number]", message: "Use one of the simulator's test cards." } }), {
        status: 402,
        headers: { "Content-Type": "application/json" },
      });
    }
    return { id, object: "payment_method", type: "card", card: { brand: "visa", last4: String(form["card[number]"]).slice(-4) } };
  },
};

/** A random UUID (an idempotency key), whose last group is twelve digits about once in 280 keys. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** No call to the API (an RPC) carries card digits: only the tokenizer sees them. */
function expectNoDigitsToTheApi(calls: Call[]) {
  for (const c of calls.filter((c) => c.method !== TOKENIZE)) {
    expect(JSON.stringify(c.body).replace(UUID, "<uuid>")).not.toMatch(/\d{12,}/);
  }
}

describe("PayForm on the simulator", () => {
  it("tokenizes the card, pays with the id, shows a decline in plain words and lets the shopper try another card", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    const calls = fakeEdge({
      ...simulator,
      "CheckoutService/PayOrder": (req) =>
        req.paymentMethod === "pm_sim_declines"
          ? {
              order: pending,
              payment: {
                status: "PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD",
                lastError: "Your card was declined. Try another card or payment method.",
              },
            }
          : { order: { ...pending, status: "ORDER_STATUS_PAID" }, payment: { status: "PAYMENT_STATUS_SUCCEEDED" } },
    });
    renderWithProviders(<PayForm orderId={async () => "o1"} amountLabel="$259.00" onPaid={onPaid} />);

    await user.type(await screen.findByLabelText("Card number"), "4000 0000 0000 0002");
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Your card was declined. Try another card or payment method. Nothing was charged.",
    );
    expect(onPaid).not.toHaveBeenCalled();

    await user.clear(screen.getByLabelText("Card number"));
    await user.click(screen.getByRole("button", { name: "4242 4242 4242 4242" })); // the test-card shortcut
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 5000 });

    const tokenized = calls.filter((c) => c.method === TOKENIZE);
    expect(tokenized.map((c) => c.body)).toEqual([
      { type: "card", "card[number]": "4000000000000002" },
      { type: "card", "card[number]": "4242424242424242" },
    ]);
    const pays = calls.filter((c) => c.method === "CheckoutService/PayOrder");
    expect(pays.map((c) => c.body.paymentMethod)).toEqual(["pm_sim_declines", "pm_sim_pays"]);
    expect(pays[0]!.body.idempotencyKey).not.toEqual(pays[1]!.body.idempotencyKey); // one key per attempt
    expectNoDigitsToTheApi(calls);
  });

  it("checks the card number before sending anything, and shows the simulator's refusal on the field", async () => {
    const user = userEvent.setup();
    const orderId = vi.fn(async () => "o1");
    const calls = fakeEdge(simulator);
    renderWithProviders(<PayForm orderId={orderId} amountLabel="$1.00" onPaid={() => {}} />);
    await user.type(await screen.findByLabelText("Card number"), "4242 4242");
    await user.click(screen.getByRole("button", { name: "Pay $1.00" }));
    expect(screen.getByLabelText("Card number")).toHaveAccessibleDescription(/16-digit number/);
    expect(calls.filter((c) => c.method !== "PaymentService/GetPaymentConfig")).toHaveLength(0);

    await user.clear(screen.getByLabelText("Card number"));
    await user.type(screen.getByLabelText("Card number"), "4111 1111 1111 1111"); // a real card's shape, not a test card
    await user.click(screen.getByRole("button", { name: "Pay $1.00" }));
    await vi.waitFor(() => expect(screen.getByLabelText("Card number")).toHaveAccessibleDescription(/simulator's test cards/));
    expect(orderId).not.toHaveBeenCalled(); // no order is made for a card the provider refused
    expect(calls.map((c) => c.method)).not.toContain("CheckoutService/PayOrder");
  });

  it("sends the shopper to the bank for 3-D Secure and waits for the order to be paid", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    let bankApproved = false;
    const calls = fakeEdge({
      ...simulator,
      "CheckoutService/PayOrder": () => ({
        order: pending,
        payment: { status: "PAYMENT_STATUS_REQUIRES_ACTION", nextActionUrl: "http://shop.test/payment-simulator/3ds?payment_intent=pi_1" },
      }),
      "OrderService/GetOrder": () => ({ order: { ...pending, status: bankApproved ? "ORDER_STATUS_PAID" : "ORDER_STATUS_PENDING_PAYMENT" } }),
    });
    renderWithProviders(<PayForm orderId={async () => "o1"} amountLabel="$259.00" onPaid={onPaid} />);
    await user.type(await screen.findByLabelText("Card number"), "4000002760003184");
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    const link = await screen.findByRole("link", { name: /Confirm with your bank/ });
    expect(link).toHaveAttribute("href", "http://shop.test/payment-simulator/3ds?payment_intent=pi_1");
    expect(link).toHaveAttribute("target", "_blank");
    expect(onPaid).not.toHaveBeenCalled();
    bankApproved = true;
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 8000 });
    expect(calls.find((c) => c.method === "CheckoutService/PayOrder")!.body.paymentMethod).toBe("pm_sim_asks");
    expectNoDigitsToTheApi(calls);
  });
});
