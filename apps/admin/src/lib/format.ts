// How values read on screen: money without floats (the SDK's formatMoney),
// dates in the browser's locale, enum values as words.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { formatMoney, type MoneyLike } from "@emporium/sdk";

export function money(m: MoneyLike | undefined): string {
  return m ? formatMoney(m) : "";
}

export function dateTime(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toLocaleString() : "";
}

export function date(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toLocaleDateString() : "";
}

/** ORDER_STATUS_PARTIALLY_REFUNDED's TS name "PARTIALLY_REFUNDED" → "partially refunded". */
export function enumWord(e: Record<number | string, string | number>, value: number): string {
  const name = e[value];
  return typeof name === "string" ? name.toLowerCase().replace(/_/g, " ") : String(value);
}

/** "19.99" → 1999n for a currency with two decimals; undefined when not a price. */
export function parseMinor(text: string, decimals = 2): bigint | undefined {
  const t = text.trim();
  const m = new RegExp(`^(\\d{1,12})(?:\\.(\\d{0,${decimals}}))?$`).exec(t);
  if (!m) return undefined;
  const frac = (m[2] ?? "").padEnd(decimals, "0");
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac || "0");
}

/** 1999n → "19.99" (for a form's input). */
export function minorToText(amount: bigint, decimals = 2): string {
  const neg = amount < 0n;
  const a = neg ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = a / base;
  const frac = (a % base).toString().padStart(decimals, "0");
  return `${neg ? "-" : ""}${whole}${decimals ? `.${frac}` : ""}`;
}
