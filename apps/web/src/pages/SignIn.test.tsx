import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeEdge, fakeJwt } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

const tokens = () => ({
  tokens: {
    accessToken: fakeJwt(),
    refreshToken: "refresh-1",
    userId: "user-1",
    refreshTokenExpireTime: new Date(Date.now() + 86_400_000).toISOString(),
  },
});

describe("sign in", () => {
  // First: the session is a module singleton, and later tests sign in.
  it("sends a signed-out shopper from a private page to sign in, and says why after a session ends", async () => {
    fakeEdge({});
    const { router } = renderApp("/checkout");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
    expect(router.state.location.search).toBe("?next=%2Fcheckout");

    const expired = renderApp("/sign-in?expired=1");
    expect(await expired.findByText("Your session has expired. Please sign in again.")).toBeInTheDocument();
  });

  it("says when the password is wrong, without saying which part", async () => {
    const user = userEvent.setup();
    fakeEdge({ "AuthService/Login": () => ({ error: { code: "unauthenticated", message: "invalid email or password" } }) });
    renderApp("/sign-in");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong password!");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That email and password don't match an account.");
    expect(screen.queryByText(/session has expired/)).not.toBeInTheDocument();
  });

  it("merges the guest cart into the shopper's and goes where the shopper was headed", async () => {
    const user = userEvent.setup();
    localStorage.setItem("emporium.cartToken", "guest-token-9");
    const calls = fakeEdge({
      "AuthService/Login": () => tokens(),
      "CartService/MergeCart": () => ({ cart: { lines: [{ sku: "A", quantity: "1" }, { sku: "B", quantity: "2" }], itemCount: "3" } }),
      "CartService/GetCart": (_req, headers) => {
        expect(headers.get("Authorization")).toMatch(/^Bearer /);
        return { cart: { lines: [], itemCount: "3", ready: true } };
      },
      "OrderService/ListMyOrders": () => ({ orders: [] }),
    });
    const { router } = renderApp("/sign-in?next=%2Forders");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse battery staple");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Your orders" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/orders");
    const merge = calls.find((c) => c.method === "CartService/MergeCart");
    expect(merge?.body).toEqual({ cartToken: "guest-token-9" });
    expect(merge?.headers.get("Authorization")).toMatch(/^Bearer /);
    expect(localStorage.getItem("emporium.cartToken")).toBeNull();
    expect(await screen.findByRole("link", { name: "Cart, 3 items" })).toBeInTheDocument();
  });

  it("refuses to send the shopper to another site after sign-in", async () => {
    const { safeNext } = await import("../lib/next");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("/orders?x=1")).toBe("/orders?x=1");
  });
});
