import AsyncStorage from "@react-native-async-storage/async-storage";
import { fireEvent, screen, waitFor } from "@testing-library/react-native";
import type { ReactNode } from "react";
import { session } from "../lib/shop";
import { cartOf, fakeEdge, fakeJwt, money, type Handler } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

// Stripe's React Native SDK is a third-party native module (no JavaScript
// implementation to run here): this stand-in records what the app hands it
// and answers as its documented API does. Jest lets a mock factory refer
// only to variables named mock….
const mockStripe = {
  providers: [] as { publishableKey: string; merchantIdentifier?: string; urlScheme?: string }[],
  initPaymentSheet: jest.fn(),
  presentPaymentSheet: jest.fn(),
};
jest.mock("@stripe/stripe-react-native", () => ({
  PaymentSheetError: { Failed: "Failed", Canceled: "Canceled", Timeout: "Timeout" },
  StripeProvider: ({ children, ...props }: { children: ReactNode; publishableKey: string }) => {
    mockStripe.providers.push(props);
    return children;
  },
  useStripe: () => ({ initPaymentSheet: mockStripe.initPaymentSheet, presentPaymentSheet: mockStripe.presentPaymentSheet }),
}));

const rate = { id: "rate-std", carrier: "local", serviceName: "Standard (3-5 days)", price: money(599) };
const SECRET = "pi_3Nstripe_secret_abc";

function getCart(req: Record<string, unknown>) {
  const c = cartOf([{ sku: "APRON-M", title: "Linen Apron", quantity: 1 }], "");
  return req.shipTo ? { cart: { ...c.cart, shippingRates: [rate], shippingTotal: rate.price, taxTotal: money(400), total: money(5999) } } : c;
}

/** The edge of a shop on Stripe; the order is paid once `paid()` says so (Stripe's webhook). */
function stripeShop(paid: () => boolean, extra: Record<string, Handler> = {}) {
  const order = () => ({ id: "order-s", number: "EMP-S1", status: paid() ? "ORDER_STATUS_PAID" : "ORDER_STATUS_PENDING_PAYMENT", total: money(5999) });
  return fakeEdge({
    "UserService/ListAddresses": () => ({
      addresses: [{ id: "a1", name: "Ada Lovelace", line1: "1 Main St", city: "Oakland", region: "CA", postalCode: "94607", country: "US", defaultShipping: true }],
    }),
    "PaymentService/GetPaymentConfig": () => ({ provider: "stripe", publishableKey: "pk_test_emporium", currency: "USD", paymentMethodTypes: ["card"] }),
    "CartService/GetCart": getCart,
    "CheckoutService/Checkout": () => ({ order: order() }),
    "CheckoutService/GetOrderPayment": () => ({
      order: order(),
      payment: { status: "PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD", provider: "stripe", providerPaymentId: "pi_3Nstripe", clientSecret: SECRET },
    }),
    "OrderService/GetOrder": () => ({ order: { ...order(), lines: [], history: [] } }),
    ...extra,
  });
}

async function toPayment() {
  await renderApp("/checkout");
  await fireEvent.press(await screen.findByRole("button", { name: "Continue to shipping" }));
  await screen.findByRole("radio", { name: "Standard (3-5 days)" });
  await waitFor(() => expect(screen.getByRole("button", { name: "Pay $59.99" })).toBeOnTheScreen());
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
  mockStripe.providers.length = 0;
  mockStripe.initPaymentSheet.mockReset().mockResolvedValue({});
  mockStripe.presentPaymentSheet.mockReset().mockResolvedValue({});
});

test("on Stripe, PaymentSheet gets the publishable key and the order's client secret, and a completed sheet leads to the paid order", async () => {
  let paid = false;
  mockStripe.presentPaymentSheet.mockImplementation(async () => {
    paid = true; // the shopper pays in Stripe's sheet; Stripe's webhook marks the order paid
    return {};
  });
  const calls = stripeShop(() => paid);
  await toPayment();
  // Stripe's sheet collects the card: the app has no card field of its own.
  expect(screen.queryByLabelText("Card number")).toBeNull();
  expect(mockStripe.providers.at(-1)).toMatchObject({ publishableKey: "pk_test_emporium", merchantIdentifier: "merchant.com.emporiumhq.shop", urlScheme: "emporium" });

  await fireEvent.press(screen.getByRole("button", { name: "Pay $59.99" }));
  expect(await screen.findByTestId("order-status", {}, { timeout: 10_000 })).toHaveTextContent("Paid");

  expect(mockStripe.initPaymentSheet).toHaveBeenCalledTimes(1);
  const [init] = mockStripe.initPaymentSheet.mock.calls[0] as [Record<string, unknown>];
  expect(init.paymentIntentClientSecret).toBe(SECRET);
  expect(init.merchantDisplayName).toBe("Emporium");
  expect(init.returnURL).toMatch(/\/orders\/order-s$/);
  expect(mockStripe.presentPaymentSheet).toHaveBeenCalledTimes(1);
  // The order was placed once and its secret asked for by id; Stripe, not
  // PayOrder, confirmed the payment.
  expect(calls.filter((c) => c.method === "CheckoutService/Checkout")).toHaveLength(1);
  expect(calls.find((c) => c.method === "CheckoutService/GetOrderPayment")?.body).toEqual({ orderId: "order-s" });
  expect(calls.some((c) => c.method === "CheckoutService/PayOrder")).toBe(false);
});

test("on Stripe, a canceled sheet changes nothing and says so; paying again uses the same order", async () => {
  let paid = false;
  mockStripe.presentPaymentSheet.mockResolvedValueOnce({ error: { code: "Canceled", message: "The payment flow has been canceled" } });
  const calls = stripeShop(() => paid);
  await toPayment();

  await fireEvent.press(screen.getByRole("button", { name: "Pay $59.99" }));
  expect(await screen.findByText("You closed the payment form. Nothing was charged; your order is kept for you.")).toBeOnTheScreen();
  // Still at checkout, the order still waiting for payment, nothing confirmed or watched.
  expect(screen.queryByTestId("order-status")).toBeNull();
  expect(screen.getByText("Order EMP-S1 is reserved for you. Pay to confirm it.")).toBeOnTheScreen();
  expect(calls.some((c) => c.method === "CheckoutService/PayOrder" || c.method === "OrderService/GetOrder")).toBe(false);
  expect(screen.getByRole("button", { name: "Pay $59.99" })).toBeEnabled();

  mockStripe.presentPaymentSheet.mockImplementationOnce(async () => {
    paid = true;
    return {};
  });
  await fireEvent.press(screen.getByRole("button", { name: "Pay $59.99" }));
  expect(await screen.findByTestId("order-status", {}, { timeout: 10_000 })).toHaveTextContent("Paid");
  expect(calls.filter((c) => c.method === "CheckoutService/Checkout")).toHaveLength(1);
  expect(mockStripe.initPaymentSheet.mock.calls.map(([o]) => (o as { paymentIntentClientSecret: string }).paymentIntentClientSecret)).toEqual([SECRET, SECRET]);
});

test("on Stripe, a sheet that fails says why and that nothing was charged", async () => {
  mockStripe.presentPaymentSheet.mockResolvedValueOnce({
    error: { code: "Failed", message: "Your card was declined.", localizedMessage: "Your card was declined." },
  });
  const calls = stripeShop(() => false);
  await toPayment();
  await fireEvent.press(screen.getByRole("button", { name: "Pay $59.99" }));
  expect(await screen.findByText("Your card was declined. Nothing was charged.")).toBeOnTheScreen();
  expect(screen.queryByTestId("order-status")).toBeNull();
  expect(calls.some((c) => c.method === "OrderService/GetOrder")).toBe(false);
});
