// End-to-end tests of shopping through the SDK against the real `emporium
// dev` server: a guest cart merged on sign-in, checkout, the payment
// simulator's test cards, and the order history.

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import {
  Code,
  OrderStatus,
  PaymentStatus,
  createEmporiumClient,
  createSimulatorPaymentMethod,
  formatMoney,
  isConnectError,
} from "../dist/index.js";
import { startEmporium } from "./support/server.mjs";

let server;

before(async () => {
  server = await startEmporium({
    args: ["--rate-limits", "login=100:1000,login-account=100:1000,login-account-all=100:1000,auth=100:1000"],
  });
});

after(async () => {
  await server?.stop();
});

const address = {
  name: "Grace Hopper",
  line1: "1 Main St",
  city: "Los Angeles",
  region: "CA",
  postalCode: "90001",
  country: "US",
};

/** A new signed-in shopper's client. */
async function newShopper(baseUrl) {
  const anon = createEmporiumClient({ baseUrl });
  const email = `sdk-shop-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}@example.com`;
  const password = `Correct-Horse-${randomBytes(6).toString("hex")}`;
  await anon.users.register({ email, password });
  const { tokens } = await anon.auth.login({ email, password });
  return createEmporiumClient({ baseUrl, token: tokens.accessToken });
}

/** Two SKUs with enough stock, from the seeded catalog. */
async function twoSkus(client) {
  const { products } = await client.products.listProducts({ pageSize: 50, inStockOnly: true });
  const skus = [];
  for (const p of products) {
    const v = p.variants.find((v) => v.stock >= 5);
    if (v) skus.push(v.sku);
    if (skus.length === 2) return skus;
  }
  throw new Error("no two SKUs with stock ≥ 5 in the demo catalog");
}

describe("shopping", () => {
  it("a guest cart merges on sign-in, checks out and is paid with the test card", async () => {
    const guest = createEmporiumClient({ baseUrl: server.baseUrl });
    const [a, b] = await twoSkus(guest);
    const first = await guest.carts.addItem({ sku: a, quantity: 1 });
    const cartToken = first.cart.cartToken;
    assert.ok(cartToken.length > 40, "a guest gets a cart token");
    await guest.carts.addItem({ cartToken, sku: b, quantity: 2 });

    const me = await newShopper(server.baseUrl);
    const { cart } = await me.carts.mergeCart({ cartToken });
    assert.deepEqual(
      Object.fromEntries(cart.lines.map((l) => [l.sku, Number(l.quantity)])),
      { [a]: 1, [b]: 2 },
    );

    const quoted = await me.carts.getCart({ shipTo: { country: "US", region: "CA", postalCode: "90001" } });
    const rate = quoted.cart.shippingRates[0];
    assert.ok(rate, "a destination gets shipping options");
    const priced = await me.carts.getCart({ shipTo: { country: "US", region: "CA" }, shippingRateId: rate.id });
    assert.ok(priced.cart.taxTotal.amount > 0n, "dev's demo tax rules tax California");
    assert.equal(
      priced.cart.total.amount,
      priced.cart.subtotal.amount - priced.cart.discountTotal.amount + priced.cart.shippingTotal.amount + priced.cart.taxTotal.amount,
    );

    const { order, payment } = await me.checkout.checkout({
      shippingAddress: address,
      shippingRateId: rate.id,
      idempotencyKey: randomUUID(),
      expectedTotal: priced.cart.total,
    });
    assert.equal(order.status, OrderStatus.PENDING_PAYMENT);
    assert.equal(payment.amount.amount, order.total.amount);

    // The card goes to the simulator's tokenizer, as it would to Stripe.js; PayOrder refuses digits.
    const config = await me.payments.getPaymentConfig({});
    assert.equal(config.provider, "simulator");
    const pm = await createSimulatorPaymentMethod({ baseUrl: server.baseUrl, tokenizePath: config.tokenizePath }, { number: "4242 4242 4242 4242" });
    assert.match(pm.id, /^pm_sim_/);
    assert.equal(pm.card.last4, "4242");
    await assert.rejects(
      me.checkout.payOrder({ orderId: order.id, paymentMethod: "4242424242424242", idempotencyKey: randomUUID() }),
      (err) => isConnectError(err) && err.code === Code.InvalidArgument && /not card details/.test(err.message),
    );
    const paid = await me.checkout.payOrder({ orderId: order.id, paymentMethod: pm.id, idempotencyKey: randomUUID() });
    assert.equal(paid.order.status, OrderStatus.PAID);
    assert.equal(paid.payment.status, PaymentStatus.SUCCEEDED);
    assert.match(formatMoney(paid.order.total), /^\$\d+\.\d\d$/);

    const { orders } = await me.orders.listMyOrders({});
    assert.equal(orders.length, 1);
    assert.deepEqual(
      orders[0].history.map((h) => h.to),
      [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID],
    );
  });

  it("a declined card leaves the order unpaid with a reason, and charges nothing", async () => {
    const me = await newShopper(server.baseUrl);
    const [a] = await twoSkus(me);
    await me.carts.addItem({ sku: a, quantity: 1 });
    const { order } = await me.checkout.checkout({ shippingAddress: address, shippingRateId: "local:standard", idempotencyKey: randomUUID() });
    const config = await me.payments.getPaymentConfig({});
    const pm = await createSimulatorPaymentMethod({ baseUrl: server.baseUrl, tokenizePath: config.tokenizePath }, { number: "4000000000000002" });
    const declined = await me.checkout.payOrder({ orderId: order.id, paymentMethod: pm.id, idempotencyKey: randomUUID() });
    assert.equal(declined.order.status, OrderStatus.PENDING_PAYMENT);
    assert.equal(declined.payment.status, PaymentStatus.REQUIRES_PAYMENT_METHOD);
    assert.match(declined.payment.lastError, /declined/i);
    assert.equal(declined.payment.refunded?.amount ?? 0n, 0n);
  });

  it("checking out an empty cart and reading someone else's order fail clearly", async () => {
    const me = await newShopper(server.baseUrl);
    await assert.rejects(
      me.checkout.checkout({ shippingAddress: address, shippingRateId: "local:standard", idempotencyKey: randomUUID() }),
      (err) => isConnectError(err) && err.code === Code.FailedPrecondition && /cart is empty/.test(err.message),
    );
    const other = await newShopper(server.baseUrl);
    const [a] = await twoSkus(other);
    await other.carts.addItem({ sku: a, quantity: 1 });
    const { order } = await other.checkout.checkout({ shippingAddress: address, shippingRateId: "local:standard", idempotencyKey: randomUUID() });
    await assert.rejects(
      me.orders.getOrder({ id: order.id }),
      (err) => isConnectError(err) && err.code === Code.NotFound,
    );
  });
});
