import { Code, ConnectError } from "@emporium/sdk";
import { describe, expect, it } from "vitest";
import { describeError, isTransient, sentence } from "./errors";

describe("describeError", () => {
  it("asks to sign in again when the session is gone", () => {
    const e = describeError(new ConnectError("token expired", Code.Unauthenticated));
    expect(e.message).toBe("Your session has expired. Please sign in again.");
    expect(e.signInAgain).toBe(true);
  });

  it("lets a screen say what Unauthenticated means there", () => {
    const e = describeError(new ConnectError("invalid credentials", Code.Unauthenticated), {
      [Code.Unauthenticated]: "That email and password don't match.",
    });
    expect(e).toEqual({ message: "That email and password don't match.", fields: {} });
  });

  it("passes on the services' shopper-facing words for sold out and empty carts", () => {
    expect(describeError(new ConnectError("Relaxed Chore Coat is sold out", Code.FailedPrecondition)).message).toBe(
      "Relaxed Chore Coat is sold out.",
    );
    expect(describeError(new ConnectError("your cart is empty", Code.FailedPrecondition)).message).toBe("Your cart is empty.");
    expect(describeError(new ConnectError("only 2 of Linen Apron left in stock", Code.ResourceExhausted)).message).toBe(
      "Only 2 of Linen Apron left in stock.",
    );
  });

  it("says to slow down on rate limits, and to check the connection when offline", () => {
    expect(describeError(new ConnectError("rate limited", Code.ResourceExhausted))).toMatchObject({
      message: expect.stringMatching(/wait a few seconds/),
      retryable: true,
    });
    expect(describeError(new ConnectError("Failed to fetch", Code.Unknown))).toMatchObject({
      message: expect.stringMatching(/can't reach the shop/),
      retryable: true,
    });
    expect(isTransient(new ConnectError("down", Code.Unavailable))).toBe(true);
    expect(isTransient(new ConnectError("nope", Code.FailedPrecondition))).toBe(false);
  });

  it("never shows an internal error's text", () => {
    const e = describeError(new ConnectError("internal error (trace 4bf92f3577b34da6)", Code.Internal));
    expect(e.message).not.toMatch(/trace/);
    expect(describeError(new TypeError("x is undefined")).message).toBe("Something went wrong. Please try again.");
  });
});

describe("sentence", () => {
  it("capitalises and ends with a full stop once", () => {
    expect(sentence("card declined")).toBe("Card declined.");
    expect(sentence("Your card was declined. Try another card.")).toBe("Your card was declined. Try another card.");
  });
});
