import { newKey } from "./ids";

const SESSION_KEY = "emporium.searchSession";

/**
 * A random key for this visit, kept in sessionStorage, sent with searches so
 * the shop's search analytics can tell visits apart. The server stores only a
 * salted hash of it; it names no one.
 */
export function searchSessionId(): string {
  try {
    let id = sessionStorage.getItem(SESSION_KEY);
    if (!id) {
      id = newKey();
      sessionStorage.setItem(SESSION_KEY, id);
    }
    return id;
  } catch {
    return ""; // storage disabled: searches go without a session key
  }
}

/** What a search result's link carries to the product page (router state, not the URL, so shared links carry no search). */
export interface FromSearch {
  searchId: string;
}

/** The search id a product page was opened from, or "". */
export function searchIdFrom(state: unknown): string {
  if (state && typeof state === "object" && "searchId" in state) {
    const id = (state as FromSearch).searchId;
    if (typeof id === "string") return id;
  }
  return "";
}
