import { Redirect, usePathname } from "expo-router";
import type { ReactNode } from "react";
import { useAuth } from "../lib/auth";
import { Loading } from "./ui";

/** Private screens: signed-out shoppers (or those whose session ended) go to sign in, then come back. */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  const path = usePathname();
  if (state.status === "loading") return <Loading label="Loading…" />;
  if (state.status === "signedOut") return <Redirect href={{ pathname: "/sign-in", params: { next: path } }} />;
  return <>{children}</>;
}
