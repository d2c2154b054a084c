import { Code, ConnectError, createEmporiumClient, describeError } from "@emporium/sdk";
import { fireEvent, render, screen } from "@testing-library/react-native";
import { ErrorNotice } from "../components/ui";
import { fakeEdge } from "../test/fakeEdge";

jest.mock("expo-router", () => ({ useRouter: () => ({ push: mockPush }) }));
const mockPush = jest.fn();

test("React Native's dropped connection reads as offline and retryable", async () => {
  fakeEdge({ "ProductService/ListCategories": () => "network-failure" });
  const client = createEmporiumClient({ baseUrl: "http://shop.test" });
  const err = await client.products.listCategories({}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectError);
  expect(describeError(err)).toEqual({
    message: "We can't reach the shop right now. Check your connection and try again.",
    retryable: true,
  });
});

test("server answers are worded for shoppers, with field violations and the services' own words", async () => {
  fakeEdge({
    "CheckoutService/Checkout": () => ({ error: { code: "failed_precondition", message: "Linen Apron is sold out" } }),
    "CartService/AddItem": () => ({ error: { code: "resource_exhausted", message: "rate limited" } }),
  });
  const client = createEmporiumClient({ baseUrl: "http://shop.test" });
  const soldOut = await client.checkout.checkout({ idempotencyKey: "k" }).catch((e: unknown) => e);
  expect(describeError(soldOut).message).toBe("Linen Apron is sold out.");
  const limited = await client.carts.addItem({ sku: "X", quantity: 1n }).catch((e: unknown) => e);
  expect(describeError(limited)).toMatchObject({ retryable: true, message: expect.stringMatching(/a little fast/) });
});

test("the error notice offers Try again for transient errors and Sign in when the session ended", async () => {
  const retry = jest.fn();
  const { rerender } = await render(<ErrorNotice error={new ConnectError("fetch failed", Code.Unavailable)} onRetry={retry} />);
  expect(screen.getByRole("alert")).toHaveTextContent(/Check your connection/);
  await fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(retry).toHaveBeenCalledTimes(1);

  await rerender(<ErrorNotice error={new ConnectError("token expired", Code.Unauthenticated)} onRetry={retry} />);
  expect(screen.getByText("Your session has expired. Please sign in again.")).toBeOnTheScreen();
  expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
  await fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(mockPush).toHaveBeenCalledWith("/sign-in");
});
