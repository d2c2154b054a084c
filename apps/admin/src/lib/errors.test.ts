import { Code, ConnectError } from "@emporium/sdk";
import { describe, expect, it } from "vitest";
import { describeError } from "./errors";

describe("describeError", () => {
  it.each([
    [Code.Unauthenticated, "Your session has ended. Sign in again."],
    [Code.PermissionDenied, "Your role does not allow this. Ask an admin."],
    [Code.FailedPrecondition, "Stock would go below zero."],
    [Code.Unavailable, "The shop's server can't be reached. Check the connection and try again."],
  ])("words code %s", (code, want) => {
    expect(describeError(new ConnectError("stock would go below zero", code)).message).toBe(want);
  });

  it("marks a stale etag as a conflict to reload", () => {
    const e = describeError(new ConnectError("etag mismatch", Code.Aborted));
    expect(e.conflict).toBe(true);
    expect(e.message).toMatch(/Someone else changed this/);
  });

  it("never shows a masked internal error as is", () => {
    expect(describeError(new Error("boom")).message).toBe("Something went wrong. Please try again.");
  });
});
