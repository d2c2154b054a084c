import { Code } from "@emporium/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { isCode, isTransient } from "./errors";
import { guestCart } from "./guestCart";
import { USER_KEY } from "./queryClient";
import { onSignedOut, session, shop } from "./shop";

export type AuthState =
  | { status: "loading" }
  | { status: "signedOut"; expired: boolean }
  | { status: "signedIn"; userId: string };

export interface Auth {
  state: AuthState;
  /** Signs in, then folds the guest cart into the shopper's. */
  signIn(email: string, password: string): Promise<void>;
  /**
   * Creates the account and signs in: "signedIn". Register answers the same
   * when the email already has an account (its owner is emailed a reset
   * link), so when signing in then fails: "checkMailbox".
   */
  register(input: { email: string; password: string; displayName: string }): Promise<"signedIn" | "checkMailbox">;
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | undefined>(undefined);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<AuthState>({ status: "loading" });

  const forgetShopper = useCallback(() => {
    queryClient.removeQueries({ queryKey: [USER_KEY] });
  }, [queryClient]);

  useEffect(() => {
    let live = true;
    void session.tokens().then((t) => {
      if (live) setState(t ? { status: "signedIn", userId: t.userId } : { status: "signedOut", expired: false });
    });
    // The server refused a refresh: the shopper signs in again. The guest
    // cart token is untouched and the signed-in cart stays on the server.
    const stop = onSignedOut(() => {
      forgetShopper();
      setState({ status: "signedOut", expired: true });
    });
    return () => {
      live = false;
      stop();
    };
  }, [forgetShopper]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const tokens = await session.login(email, password);
      await mergeGuestCart();
      forgetShopper();
      setState({ status: "signedIn", userId: tokens.userId });
    },
    [forgetShopper],
  );

  const auth = useMemo<Auth>(
    () => ({
      state,
      signIn,
      register: async ({ email, password, displayName }) => {
        await shop.users.register({ email, password, displayName });
        try {
          await signIn(email, password);
        } catch (err) {
          if (isCode(err, Code.Unauthenticated)) return "checkMailbox";
          throw err;
        }
        return "signedIn";
      },
      signOut: async () => {
        try {
          await session.logout();
        } finally {
          forgetShopper();
          setState({ status: "signedOut", expired: false });
        }
      },
    }),
    [state, signIn, forgetShopper],
  );
  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}

/** Moves a guest's cart into the signed-in shopper's cart (quantities add up). */
async function mergeGuestCart(): Promise<void> {
  const cartToken = await guestCart.token();
  if (!cartToken) return;
  try {
    await shop.carts.mergeCart({ cartToken });
    await guestCart.clear();
  } catch (err) {
    // Already merged or gone: nothing to keep. A network failure keeps the
    // token so the next sign-in tries again.
    if (!isTransient(err) || isCode(err, Code.NotFound)) await guestCart.clear();
  }
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside <AuthProvider>");
  return auth;
}
