import type { Href } from "expo-router";

/** Only paths inside the app: `next` comes from a link and must not send the shopper elsewhere. */
export function safeNext(next: string | undefined): Href {
  return next && next.startsWith("/") && !next.startsWith("//") ? (next as Href) : "/";
}
