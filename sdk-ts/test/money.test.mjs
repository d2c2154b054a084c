import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { create } from "@bufbuild/protobuf";
import { MoneySchema, formatMoney } from "../dist/index.js";

// Intl separates the number and a trailing currency sign with a no-break space.
const nbsp = (s) => s.replace(/[\u00a0\u202f]/g, " ");

describe("formatMoney", () => {
  it("formats USD with 2 minor-unit digits", () => {
    assert.equal(formatMoney({ amount: 1999n, currency: "USD" }, "en-US"), "$19.99");
  });

  it("formats JPY with no minor-unit digits", () => {
    assert.equal(formatMoney({ amount: 1999n, currency: "JPY" }, "en-US"), "¥1,999");
  });

  it("formats 3-digit currencies (BHD)", () => {
    assert.equal(nbsp(formatMoney({ amount: 1999n, currency: "BHD" }, "en-US")), "BHD 1.999");
  });

  it("pads small amounts", () => {
    assert.equal(formatMoney({ amount: 5n, currency: "USD" }, "en-US"), "$0.05");
    assert.equal(formatMoney({ amount: 0n, currency: "USD" }, "en-US"), "$0.00");
  });

  it("follows the locale", () => {
    assert.equal(nbsp(formatMoney({ amount: 123456n, currency: "EUR" }, "de-DE")), "1.234,56 €");
  });

  it("stays exact beyond Number.MAX_SAFE_INTEGER", () => {
    assert.equal(
      formatMoney({ amount: 9007199254740993n, currency: "USD" }, "en-US"),
      "$90,071,992,547,409.93",
    );
  });

  it("accepts a generated Money message", () => {
    const m = create(MoneySchema, { amount: 250n, currency: "GBP" });
    assert.equal(formatMoney(m, "en-GB"), "£2.50");
  });

  it("returns an empty string for undefined", () => {
    assert.equal(formatMoney(undefined, "en-US"), "");
  });

  it("does not throw on a malformed currency code", () => {
    assert.equal(formatMoney({ amount: 1999n, currency: "US" }, "en-US"), "1999 US");
  });
});
