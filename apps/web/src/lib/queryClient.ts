import { QueryClient } from "@tanstack/react-query";
import { isTransient } from "./errors";

/** The app's one query client: catalog reads stay fresh for a minute; only transient failures are retried. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 60_000,
        gcTime: 10 * 60_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => count < 2 && isTransient(err),
      },
      mutations: { retry: false },
    },
  });
}
