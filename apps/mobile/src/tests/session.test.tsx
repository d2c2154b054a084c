import AsyncStorage from "@react-native-async-storage/async-storage";
import { screen } from "@testing-library/react-native";
import * as SecureStore from "expo-secure-store";
import { session } from "../lib/shop";
import { fakeEdge, fakeJwt } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

test("a 401 whose refresh fails sends the shopper to sign in, and the guest cart stays", async () => {
  await AsyncStorage.setItem("emporium.cartToken", "guest-token-1");
  await session.setTokens({
    $typeName: "emporium.auth.v1.Tokens",
    accessToken: fakeJwt(),
    refreshToken: "refresh-1",
    userId: "user-1",
    tokenType: "Bearer",
  } as Parameters<typeof session.setTokens>[0]);
  // The tokens went to the device's secure store, not to AsyncStorage.
  expect(await SecureStore.getItemAsync("emporium.session")).toContain("refresh-1");
  expect(JSON.stringify(await AsyncStorage.multiGet(await AsyncStorage.getAllKeys()))).not.toContain("refresh-1");

  const calls = fakeEdge({
    "OrderService/ListMyOrders": () => ({ error: { code: "unauthenticated", message: "token revoked" } }),
    "AuthService/Refresh": () => ({ error: { code: "unauthenticated", message: "session ended" } }),
    "CartService/GetCart": () => ({ cart: { cartToken: "guest-token-1", lines: [] } }),
  });
  await renderApp("/orders");
  expect(await screen.findByText("Your session has ended. Sign in again; your cart is kept.")).toBeOnTheScreen();
  expect(screen.getByRole("button", { name: "Sign in" })).toBeOnTheScreen();
  expect(calls.map((c) => c.method)).toContain("AuthService/Refresh");
  expect(await SecureStore.getItemAsync("emporium.session")).toBeNull();
  expect(await AsyncStorage.getItem("emporium.cartToken")).toBe("guest-token-1");
});
