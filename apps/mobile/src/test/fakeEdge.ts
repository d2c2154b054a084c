// The shared fetch-level stand-in for the edge (apps/e2e-kit/fakeEdge.ts),
// and the app's own fixtures.
import { money } from "../../../e2e-kit/fakeEdge";

export * from "../../../e2e-kit/fakeEdge";

export type Line = { sku: string; title: string; quantity: number; issue?: string };

export function cartOf(lines: Line[], cartToken = "guest-token-1") {
  return {
    cart: {
      cartToken,
      lines: lines.map((l) => ({
        sku: l.sku,
        title: l.title,
        variantTitle: "M",
        productSlug: l.sku.toLowerCase(),
        unitPrice: money(5000),
        quantity: String(l.quantity),
        lineTotal: money(5000 * l.quantity),
        issue: l.issue ?? "",
      })),
      subtotal: money(lines.reduce((n, l) => n + 5000 * l.quantity, 0)),
      itemCount: String(lines.reduce((n, l) => n + l.quantity, 0)),
      ready: lines.every((l) => !l.issue),
    },
  };
}
