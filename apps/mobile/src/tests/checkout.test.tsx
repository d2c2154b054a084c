import AsyncStorage from "@react-native-async-storage/async-storage";
import { fireEvent, screen, waitFor } from "@testing-library/react-native";
import { session } from "../lib/shop";
import { cartOf, fakeEdge, fakeJwt, money } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

const rates = [
  { id: "rate-std", carrier: "local", serviceName: "Standard (3-5 days)", price: money(599) },
  { id: "rate-exp", carrier: "local", serviceName: "Express (1 day)", price: money(1999) },
];

function quoted(rateId: string) {
  const c = cartOf([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }], "");
  const rate = rates.find((r) => r.id === rateId);
  return {
    cart: {
      ...c.cart,
      shippingRates: rates,
      shippingTotal: rate?.price,
      taxTotal: rate ? money(400) : undefined,
      total: money(5000 + (rate ? Number(rate.price.amount) + 400 : 0)),
    },
  };
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await session.setTokens({
    $typeName: "emporium.auth.v1.Tokens",
    accessToken: fakeJwt(),
    refreshToken: "refresh-1",
    userId: "user-1",
    tokenType: "Bearer",
  } as Parameters<typeof session.setTokens>[0]);
});

test("checkout: a new address is checked, rates are priced, a declined card charges nothing and a retry pays", async () => {
  const payKeys: string[] = [];
  const checkoutKeys: string[] = [];
  const calls = fakeEdge({
    "UserService/ListAddresses": () => ({ addresses: [] }),
    "PaymentService/GetPaymentConfig": () => ({ provider: "simulator", currency: "USD", tokenizePath: "/payment-simulator/v1/payment_methods" }),
    "CartService/GetCart": (req) => (req.shipTo ? quoted(String(req.shippingRateId ?? "")) : cartOf([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }], "")),
    "/payment-simulator/v1/payment_methods": (form) => ({
      id: form["card[number]"] === "4000000000000002" ? "pm_sim_decline" : "pm_sim_ok",
      card: { brand: "visa", last4: String(form["card[number]"]).slice(-4), expMonth: 12, expYear: 2030 },
    }),
    "CheckoutService/Checkout": (req) => {
      checkoutKeys.push(String(req.idempotencyKey));
      return { order: { id: "order-1", number: "EMP-1001", status: "ORDER_STATUS_PENDING_PAYMENT", total: money(5999) } };
    },
    "CheckoutService/PayOrder": (req) => {
      payKeys.push(String(req.idempotencyKey));
      return req.paymentMethod === "pm_sim_decline"
        ? {
            order: { id: "order-1", number: "EMP-1001", status: "ORDER_STATUS_PENDING_PAYMENT" },
            payment: { status: "PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD", lastError: "Your card was declined." },
          }
        : { order: { id: "order-1", number: "EMP-1001", status: "ORDER_STATUS_PAID" }, payment: { status: "PAYMENT_STATUS_SUCCEEDED" } };
    },
    "OrderService/GetOrder": () => ({ order: { id: "order-1", number: "EMP-1001", status: "ORDER_STATUS_PAID", total: money(5999), lines: [], history: [] } }),
  });
  await renderApp("/checkout");

  // Nothing typed: the form says what is missing, and nothing is sent.
  await fireEvent.press(await screen.findByRole("button", { name: "Continue to shipping" }));
  expect(screen.getByText("Enter the recipient's name.")).toBeOnTheScreen();
  expect(screen.getByText("Enter the street address.")).toBeOnTheScreen();
  expect(calls.some((c) => c.method === "CartService/GetCart" && c.body.shipTo)).toBe(false);

  await fireEvent.changeText(screen.getByLabelText("Full name"), "Ada Lovelace");
  await fireEvent.changeText(screen.getByLabelText("Address"), "1 Main St");
  await fireEvent.changeText(screen.getByLabelText("City"), "Oakland");
  await fireEvent.changeText(screen.getByLabelText("State / region"), "CA");
  await fireEvent.press(screen.getByRole("button", { name: "Continue to shipping" }));

  // The cheapest option is chosen, with its price in the total.
  expect(await screen.findByRole("radio", { name: "Standard (3-5 days)" })).toBeChecked();
  await waitFor(() => expect(screen.getByText("$59.99")).toBeOnTheScreen());
  await fireEvent.press(screen.getByRole("radio", { name: "Express (1 day)" }));
  await waitFor(() => expect(screen.getByText("$73.99")).toBeOnTheScreen());

  await fireEvent.changeText(screen.getByLabelText("Card number"), "4000 0000 0000 0002");
  await fireEvent.press(screen.getByRole("button", { name: /^Pay / }));
  expect(await screen.findByText("Your card was declined. Nothing was charged.")).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("button", { name: /Use test card 4242/ }));
  await fireEvent.press(screen.getByRole("button", { name: /^Pay / }));
  expect(await screen.findByTestId("order-status")).toHaveTextContent("Paid");
  expect(screen.getByText("Thank you! Your order is paid. We'll email you when it ships.")).toBeOnTheScreen();
  // One order for the checkout; each payment attempt its own key; the card
  // number went only to the tokenizer.
  expect(checkoutKeys).toHaveLength(1);
  expect(new Set(payKeys).size).toBe(2);
  for (const c of calls.filter((c) => c.method.includes("Service/"))) expect(JSON.stringify(c.body)).not.toMatch(/4242424242424242|4000000000000002/);
});

test("checkout offers the saved default address first", async () => {
  fakeEdge({
    "UserService/ListAddresses": () => ({
      addresses: [
        { id: "a1", name: "Ada Lovelace", line1: "1 Main St", city: "Oakland", region: "CA", postalCode: "94607", country: "US", defaultShipping: true },
        { id: "a2", name: "Ada at work", line1: "9 Market St", city: "San Francisco", region: "CA", country: "US" },
      ],
    }),
    "PaymentService/GetPaymentConfig": () => ({ provider: "simulator", tokenizePath: "/payment-simulator/v1/payment_methods" }),
    "CartService/GetCart": (req) => (req.shipTo ? quoted(String(req.shippingRateId ?? "")) : cartOf([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }], "")),
  });
  await renderApp("/checkout");
  expect(await screen.findByRole("radio", { name: "Ada Lovelace, 1 Main St, Oakland, CA, 94607, US" })).toBeChecked();
  expect(screen.queryByLabelText("Full name")).toBeNull(); // no form while a saved address is chosen
  await fireEvent.press(screen.getByRole("radio", { name: "A new address" }));
  expect(screen.getByLabelText("Full name")).toBeOnTheScreen();
});

test("3-D Secure opens the bank's page in an auth session and the order turns paid once approved", async () => {
  const WebBrowser = jest.requireMock<{ openAuthSessionAsync: jest.Mock }>("expo-web-browser");
  WebBrowser.openAuthSessionAsync.mockClear();
  let approved = false;
  WebBrowser.openAuthSessionAsync.mockImplementation(async () => {
    approved = true; // the shopper approves on the bank's page, then comes back
    return { type: "dismiss" };
  });
  const orderAnswer = () => ({
    order: { id: "order-3ds", number: "EMP-3DS", status: approved ? "ORDER_STATUS_PAID" : "ORDER_STATUS_PENDING_PAYMENT", total: money(5999), lines: [], history: [] },
  });
  const calls = fakeEdge({
    "UserService/ListAddresses": () => ({
      addresses: [{ id: "a1", name: "Ada Lovelace", line1: "1 Main St", city: "Oakland", region: "CA", postalCode: "94607", country: "US", defaultShipping: true }],
    }),
    "PaymentService/GetPaymentConfig": () => ({ provider: "simulator", tokenizePath: "/payment-simulator/v1/payment_methods" }),
    "CartService/GetCart": (req) => (req.shipTo ? quoted(String(req.shippingRateId ?? "")) : cartOf([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }], "")),
    "/payment-simulator/v1/payment_methods": () => ({ id: "pm_sim_3ds", card: { brand: "visa", last4: "3184", expMonth: 12, expYear: 2030 } }),
    "CheckoutService/Checkout": () => ({ order: { id: "order-3ds", number: "EMP-3DS", status: "ORDER_STATUS_PENDING_PAYMENT" } }),
    "CheckoutService/PayOrder": () => ({
      order: { id: "order-3ds", number: "EMP-3DS", status: "ORDER_STATUS_PENDING_PAYMENT" },
      payment: { status: "PAYMENT_STATUS_REQUIRES_ACTION", nextActionUrl: "http://shop.test/payment-simulator/3ds?payment_intent=pi_1" },
    }),
    "OrderService/GetOrder": orderAnswer,
  });
  await renderApp("/checkout");
  await fireEvent.press(await screen.findByRole("button", { name: "Continue to shipping" }));
  await screen.findByRole("radio", { name: "Standard (3-5 days)" });
  await waitFor(() => expect(screen.getByRole("button", { name: /^Pay \$/ })).toBeOnTheScreen());
  await fireEvent.changeText(screen.getByLabelText("Card number"), "4000 0027 6000 3184");
  await fireEvent.press(screen.getByRole("button", { name: /^Pay / }));

  expect(await screen.findByTestId("order-status", {}, { timeout: 10_000 })).toHaveTextContent("Paid");
  const [url, returnUrl] = WebBrowser.openAuthSessionAsync.mock.calls[0] as [string, string];
  expect(returnUrl).toMatch(/\/orders\/order-3ds$/);
  // The bank's page is told where to send the shopper back: the app's own link.
  expect(url).toBe(`http://shop.test/payment-simulator/3ds?payment_intent=pi_1&return_url=${encodeURIComponent(returnUrl)}`);
  const pay = calls.find((c) => c.method === "CheckoutService/PayOrder");
  expect(pay?.body.returnUrl).toBe(returnUrl);
});
