import { Muted } from "./ui";
import type { StripePayProps } from "./stripePayProps";

export type { StripePayProps } from "./stripePayProps";

/**
 * Stripe's React Native SDK has no web implementation, so the web export of
 * the app (its browser tests) does not bundle it: a shopper in a browser pays
 * on the web shop, which has Stripe's Payment Element.
 */
export function StripePay(_props: StripePayProps) {
  return <Muted>This shop takes cards through Stripe, which the app pays with on iOS and Android. In a browser, please pay on the web shop.</Muted>;
}
