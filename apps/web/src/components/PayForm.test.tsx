import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeEdge, money } from "../test/fakeEdge";
import { renderWithProviders } from "../test/renderApp";
import { PayForm } from "./PayForm";

const pending = { id: "o1", number: "EMP-7K2M9QX4", status: "ORDER_STATUS_PENDING_PAYMENT", total: money(25900) };

describe("PayForm", () => {
  it("shows a decline in plain words, says nothing was charged, and lets the shopper try another card", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    const calls = fakeEdge({
      "CheckoutService/PayOrder": (req) =>
        req.paymentMethod === "4000000000000002"
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

    await user.type(screen.getByLabelText("Card number"), "4000 0000 0000 0002");
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Your card was declined. Try another card or payment method. Nothing was charged.",
    );
    expect(onPaid).not.toHaveBeenCalled();

    await user.clear(screen.getByLabelText("Card number"));
    await user.click(screen.getByRole("button", { name: "4242 4242 4242 4242" })); // the test-card shortcut
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 5000 });

    const pays = calls.filter((c) => c.method === "CheckoutService/PayOrder");
    expect(pays.map((c) => c.body.paymentMethod)).toEqual(["4000000000000002", "4242424242424242"]);
    expect(pays[0]!.body.idempotencyKey).not.toEqual(pays[1]!.body.idempotencyKey); // one key per attempt
  });

  it("checks the card number before sending anything", async () => {
    const user = userEvent.setup();
    const calls = fakeEdge({});
    renderWithProviders(<PayForm orderId={async () => "o1"} amountLabel="$1.00" onPaid={() => {}} />);
    await user.type(screen.getByLabelText("Card number"), "4242 4242");
    await user.click(screen.getByRole("button", { name: "Pay $1.00" }));
    expect(screen.getByLabelText("Card number")).toHaveAccessibleDescription(/16-digit number/);
    expect(calls).toHaveLength(0);
  });

  it("sends the shopper to the bank for 3-D Secure and waits for the order to be paid", async () => {
    const user = userEvent.setup();
    const onPaid = vi.fn();
    let bankApproved = false;
    fakeEdge({
      "CheckoutService/PayOrder": () => ({
        order: pending,
        payment: { status: "PAYMENT_STATUS_REQUIRES_ACTION", nextActionUrl: "http://shop.test/payment-simulator/3ds?payment_intent=pi_1" },
      }),
      "OrderService/GetOrder": () => ({ order: { ...pending, status: bankApproved ? "ORDER_STATUS_PAID" : "ORDER_STATUS_PENDING_PAYMENT" } }),
    });
    renderWithProviders(<PayForm orderId={async () => "o1"} amountLabel="$259.00" onPaid={onPaid} />);
    await user.type(screen.getByLabelText("Card number"), "4000002760003184");
    await user.click(screen.getByRole("button", { name: "Pay $259.00" }));
    const link = await screen.findByRole("link", { name: /Confirm with your bank/ });
    expect(link).toHaveAttribute("href", "http://shop.test/payment-simulator/3ds?payment_intent=pi_1");
    expect(link).toHaveAttribute("target", "_blank");
    expect(onPaid).not.toHaveBeenCalled();
    bankApproved = true;
    await vi.waitFor(() => expect(onPaid).toHaveBeenCalledWith("o1"), { timeout: 8000 });
  });
});
