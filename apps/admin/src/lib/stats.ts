// The dashboard's figures from GetOrderStats: a day per entry (paid orders,
// revenue less refunds, counted where the browser is), summed over the last
// 1, 7 and 30 days without floats; the chart gets major units.
import type { DailyOrderStats } from "@emporium/sdk";

export interface PeriodStats { orders: bigint; revenue: bigint }

/** "YYYY-MM-DD" of the day `daysAgo` before `now`, in local time. */
export function localDay(now: Date, daysAgo = 0): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysAgo);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Sums over the last `days` entries (the range ends today). */
export function sumLast(days: DailyOrderStats[], n: number): PeriodStats {
  return days.slice(-n).reduce((a, d) => ({ orders: a.orders + d.orders, revenue: a.revenue + (d.revenue?.amount ?? 0n) }),
    { orders: 0n, revenue: 0n });
}

/** Entries for the chart, revenue in major units (display only). */
export function chartDays(days: DailyOrderStats[], decimals = 2) {
  return days.map((d) => ({ day: d.date, orders: Number(d.orders), revenue: Number(d.revenue?.amount ?? 0n) / 10 ** decimals }));
}
