import type { Money } from "./gen/emporium/type/v1/money_pb.js";

/** The parts of Money that formatMoney reads; a plain object literal works too. */
export type MoneyLike = Pick<Money, "amount" | "currency">;

/**
 * Formats Money (an int64 amount in the currency's minor unit plus an ISO 4217
 * code) for display, e.g. `{ amount: 1999n, currency: "USD" }` → "$19.99" and
 * `{ amount: 1999n, currency: "JPY" }` → "¥1,999" in "en-US".
 *
 * The number of minor-unit digits comes from Intl for the currency (2 for USD,
 * 0 for JPY, 3 for BHD, ...). The amount is never turned into a float: it is
 * formatted as an exact decimal string, so amounts beyond 2^53 stay exact.
 *
 * Returns "" for `undefined`. A currency code that Intl rejects is shown as
 * the raw amount in minor units followed by the code, rather than throwing
 * while rendering.
 *
 * @param locale BCP 47 tag such as "en-US" or "de-DE"; default: the runtime's.
 */
export function formatMoney(m: MoneyLike | undefined, locale?: string): string {
  if (m === undefined) {
    return "";
  }
  const amount = BigInt(m.amount);
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(locale, { style: "currency", currency: m.currency });
  } catch {
    return `${amount.toString()} ${m.currency}`;
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorToDecimal(amount, digits) as unknown as number);
}

/** 1999n, 2 → "19.99"; -5n, 2 → "-0.05"; 1999n, 0 → "1999". */
function minorToDecimal(amount: bigint, digits: number): string {
  const negative = amount < 0n;
  const abs = (negative ? -amount : amount).toString();
  const sign = negative ? "-" : "";
  if (digits <= 0) {
    return sign + abs;
  }
  const padded = abs.padStart(digits + 1, "0");
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}
