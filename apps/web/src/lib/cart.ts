import { Code, type Cart } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useAuth, USER_KEY } from "./auth";
import { isCode } from "./errors";
import { guestCart } from "./guestCart";
import { shop } from "./shop";

/** The cart's query key: the shopper's own cart, or this browser's guest cart. */
export function useCartKey(): readonly unknown[] {
  const { state } = useAuth();
  return [USER_KEY, "cart", state.status === "signedIn" ? state.userId : "guest"];
}

/**
 * The current cart: the signed-in shopper's, or the guest cart kept in
 * localStorage. `data` is undefined for a guest who has added nothing yet.
 */
export function useCart() {
  const { state } = useAuth();
  const key = useCartKey();
  const signedIn = state.status === "signedIn";
  return useQuery({
    queryKey: key,
    enabled: state.status !== "loading",
    staleTime: 5_000,
    queryFn: async (): Promise<Cart | null> => {
      const cartToken = signedIn ? "" : guestCart.token();
      if (!signedIn && !cartToken) return null;
      try {
        return (await shop.carts.getCart({ cartToken })).cart ?? null;
      } catch (err) {
        // A guest cart that was merged on another tab, or has expired.
        if (!signedIn && (isCode(err, Code.NotFound) || isCode(err, Code.FailedPrecondition))) {
          guestCart.clear();
          return null;
        }
        throw err;
      }
    },
  });
}

type CartChange =
  | { kind: "add"; sku: string; quantity: number; searchId?: string }
  | { kind: "set"; sku: string; quantity: number }
  | { kind: "remove"; sku: string };

/** Adds, changes and removes cart lines; the answer (the whole cart) replaces the cached one. */
export function useCartChange() {
  const { state } = useAuth();
  const key = useCartKey();
  const queryClient = useQueryClient();
  const signedIn = state.status === "signedIn";
  return useMutation({
    mutationFn: async (change: CartChange): Promise<Cart | undefined> => {
      const cartToken = signedIn ? "" : guestCart.token();
      switch (change.kind) {
        case "add":
          return (
            await shop.carts.addItem({ cartToken, sku: change.sku, quantity: BigInt(change.quantity), searchId: change.searchId ?? "" })
          ).cart;
        case "set":
          return (await shop.carts.updateItem({ cartToken, sku: change.sku, quantity: BigInt(change.quantity) })).cart;
        case "remove":
          return (await shop.carts.removeItem({ cartToken, sku: change.sku })).cart;
      }
    },
    onSuccess: (cart) => {
      if (!cart) return;
      if (!signedIn && cart.cartToken) guestCart.setToken(cart.cartToken);
      queryClient.setQueryData(key, cart);
    },
  });
}
