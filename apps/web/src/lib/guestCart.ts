// A guest's cart is found by the cart token the first AddItem returns; it is
// kept in localStorage so the cart survives reloads, and merged into the
// shopper's own cart when they sign in.
const KEY = "emporium.cartToken";

export const guestCart = {
  token(): string {
    try {
      return globalThis.localStorage?.getItem(KEY) ?? "";
    } catch {
      return "";
    }
  },
  setToken(token: string): void {
    try {
      if (token) globalThis.localStorage?.setItem(KEY, token);
    } catch {
      // private mode: the cart lasts as long as the page
    }
  },
  clear(): void {
    try {
      globalThis.localStorage?.removeItem(KEY);
    } catch {
      // ignored
    }
  },
};
