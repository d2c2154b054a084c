import { Code, type Cart } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useAuth } from "./auth";
import { isCode } from "./errors";
import { guestCart } from "./guestCart";
import { USER_KEY } from "./queryClient";
import { shop } from "./shop";

/** The cart's query key: the shopper's own cart, or this device's guest cart. */
export function useCartKey(): readonly unknown[] {
  const { state } = useAuth();
  return [USER_KEY, "cart", state.status === "signedIn" ? state.userId : "guest"];
}

async function loadCart(signedIn: boolean): Promise<Cart | null> {
  const cartToken = signedIn ? "" : await guestCart.token();
  if (!signedIn && !cartToken) return null;
  try {
    return (await shop.carts.getCart({ cartToken })).cart ?? null;
  } catch (err) {
    // A guest cart that was merged elsewhere, or has expired.
    if (!signedIn && (isCode(err, Code.NotFound) || isCode(err, Code.FailedPrecondition))) {
      await guestCart.clear();
      return null;
    }
    throw err;
  }
}

/** The current cart; `data` is null for a guest who has added nothing yet. */
export function useCart() {
  const { state } = useAuth();
  const signedIn = state.status === "signedIn";
  return useQuery({
    queryKey: useCartKey(),
    enabled: state.status !== "loading",
    staleTime: 5_000,
    queryFn: () => loadCart(signedIn),
  });
}

export type CartChange =
  | { kind: "add"; sku: string; quantity: number; searchId?: string }
  | { kind: "set"; sku: string; quantity: number }
  | { kind: "remove"; sku: string };

function quantityOf(cart: Cart | null | undefined, sku: string): bigint {
  return cart?.lines.find((l) => l.sku === sku)?.quantity ?? 0n;
}

/**
 * Adds one change to the cart. AddItem is not idempotent (it adds to the
 * line), so an add whose answer was lost (a timeout, a dropped connection)
 * must not simply be sent again: `attempt` reloads the cart first and only
 * adds what is still missing compared with the quantity seen before the
 * first try. Set and remove are idempotent and are sent again as they are.
 */
export async function applyCartChange(
  change: CartChange,
  signedIn: boolean,
  before: { quantity: bigint } | undefined,
): Promise<Cart | null | undefined> {
  const cartToken = signedIn ? "" : await guestCart.token();
  switch (change.kind) {
    case "add": {
      let quantity = BigInt(change.quantity);
      if (before) {
        const now = cartToken || signedIn ? await loadCart(signedIn) : null;
        const missing = before.quantity + quantity - quantityOf(now, change.sku);
        if (missing <= 0n) return now; // the lost attempt went through
        quantity = missing;
      }
      return (await shop.carts.addItem({ cartToken, sku: change.sku, quantity, searchId: change.searchId ?? "" })).cart;
    }
    case "set":
      return (await shop.carts.updateItem({ cartToken, sku: change.sku, quantity: BigInt(change.quantity) })).cart;
    case "remove":
      return (await shop.carts.removeItem({ cartToken, sku: change.sku })).cart;
  }
}

/**
 * Changes the cart; the answer (the whole cart) replaces the cached one. A
 * failure stays on the mutation (`error`, `variables`) for the screen to show
 * with a Retry, which calls `retry()`: a failed change is never dropped.
 */
export function useCartChange() {
  const { state } = useAuth();
  const key = useCartKey();
  const queryClient = useQueryClient();
  const signedIn = state.status === "signedIn";
  const m = useMutation({
    mutationFn: async (v: { change: CartChange; before: bigint; again: boolean }) =>
      await applyCartChange(v.change, signedIn, v.again ? { quantity: v.before } : undefined),
    onSuccess: async (cart) => {
      if (!cart) return;
      if (!signedIn && cart.cartToken) await guestCart.setToken(cart.cartToken);
      queryClient.setQueryData(key, cart);
    },
  });
  // The line's quantity when the shopper asked, before any attempt.
  const before = (change: CartChange) => quantityOf(queryClient.getQueryData<Cart | null>(key), change.sku);
  return {
    ...m,
    change: (change: CartChange) => m.mutate({ change, before: before(change), again: false }),
    changeAsync: (change: CartChange) => m.mutateAsync({ change, before: before(change), again: false }),
    /** Sends the failed change again, safely (see applyCartChange). */
    retry: () => {
      const v = m.variables;
      if (v) m.mutate({ ...v, again: true });
    },
  };
}
