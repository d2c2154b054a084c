// Reading CheckoutService.PayOrder answers and checking typed card numbers,
// for any shop front (web, mobile).
import { OrderStatus, type PayOrderResponse } from "./gen/emporium/order/v1/order_pb.js";
import { PaymentStatus } from "./gen/emporium/payment/v1/payment_pb.js";

/** What happened to a payment attempt, for the checkout screen. */
export type PayOutcome =
  | { kind: "paid"; orderId: string }
  | { kind: "declined"; message: string }
  | { kind: "authenticate"; url: string }
  | { kind: "processing" };

/** Reads PayOrder's answer: a decline is not an error, it comes back in payment.last_error with the order still pending. */
export function payOutcome(res: PayOrderResponse): PayOutcome {
  const order = res.order;
  const payment = res.payment;
  if (order && order.status !== OrderStatus.PENDING_PAYMENT && order.status !== OrderStatus.CANCELED) {
    return { kind: "paid", orderId: order.id };
  }
  if (payment?.status === PaymentStatus.SUCCEEDED && order) return { kind: "paid", orderId: order.id };
  if (payment?.status === PaymentStatus.REQUIRES_ACTION && payment.nextActionUrl) {
    return { kind: "authenticate", url: payment.nextActionUrl };
  }
  if (payment?.status === PaymentStatus.PROCESSING) return { kind: "processing" };
  const reason = payment?.lastError || "Your card was declined. Try another card or payment method.";
  return { kind: "declined", message: `${reason} Nothing was charged.` };
}

/** "4242 4242 4242 4242" → "4242424242424242". */
export function cardDigits(input: string): string {
  return input.replace(/[\s-]/g, "");
}

/** Luhn check of a card number (the simulator's test cards pass it). */
export function looksLikeCard(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
