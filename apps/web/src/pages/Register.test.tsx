import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeEdge, fakeJwt } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

async function fillIn(email: string, password: string) {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Email"), email);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

describe("create an account", () => {
  // First: the session is a module singleton, and the second test signs in.
  it("tells the shopper to check the mailbox when the email already has an account", async () => {
    // Register answers a taken email as it answers a new one; only signing
    // in with the new password fails (the owner was emailed a reset link).
    const calls = fakeEdge({
      "UserService/Register": () => ({}),
      "AuthService/Login": () => ({ error: { code: "unauthenticated", message: "wrong email or password" } }),
    });
    renderApp("/register");
    await fillIn("taken@example.com", "a long new passphrase");
    expect(await screen.findByRole("heading", { level: 1, name: "Check your mailbox" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("We've sent a message to taken@example.com");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(calls.map((c) => c.method)).toEqual(["UserService/Register", "AuthService/Login"]);
  });

  it("signs a new shopper in and goes on", async () => {
    fakeEdge({
      "UserService/Register": () => ({}),
      "AuthService/Login": () => ({
        tokens: {
          accessToken: fakeJwt(), refreshToken: "refresh-1", userId: "user-1",
          refreshTokenExpireTime: new Date(Date.now() + 86_400_000).toISOString(),
        },
      }),
      "OrderService/ListMyOrders": () => ({ orders: [] }),
      "CartService/GetCart": () => ({ cart: { lines: [], itemCount: "0", ready: true } }),
    });
    const { router } = renderApp("/register?next=%2Forders");
    await fillIn("new@example.com", "a long new passphrase");
    expect(await screen.findByRole("heading", { level: 1, name: "Your orders" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/orders");
  });
});
