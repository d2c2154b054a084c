// One TanStack QueryClient. Catalog reads (keys starting with "catalog") are
// also kept in AsyncStorage, so a shopper who opens the app offline sees the
// pages they saw last, under a banner that says so. The shopper's own data
// (cart, orders, addresses: keys under "user") is never written to disk.
import { createAsyncStoragePersister } from "@tanstack/query-async-storage-persister";
import { QueryClient } from "@tanstack/react-query";
import AsyncStorage from "@react-native-async-storage/async-storage";
import { isTransient } from "./errors";

export const CATALOG_KEY = "catalog";
export const USER_KEY = "user";

const DAY = 24 * 60 * 60 * 1000;

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        gcTime: DAY,
        // Run even when the device thinks it is offline: the call fails fast,
        // and the screen shows the cached page with the offline banner.
        networkMode: "always",
        retry: (failures, err) => failures < 2 && isTransient(err),
      },
      // Mutations are never retried behind the shopper's back: a failure is
      // shown with a Retry button (see useCartChange, the checkout).
      mutations: { networkMode: "always", retry: false },
    },
  });
}

// Protobuf messages hold bigints (int64) and bytes, which JSON cannot.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Array.from(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === "object") {
    const v = value as { $bigint?: unknown; $bytes?: unknown };
    if (typeof v.$bigint === "string") return BigInt(v.$bigint);
    if (Array.isArray(v.$bytes)) return Uint8Array.from(v.$bytes as number[]);
  }
  return value;
}

export const serialize = (data: unknown): string => JSON.stringify(data, replacer);
export const deserialize = <T,>(s: string): T => JSON.parse(s, reviver) as T;

export const persister = createAsyncStoragePersister({
  storage: AsyncStorage,
  key: "emporium.catalog-cache",
  throttleTime: 1000,
  serialize,
  deserialize,
});

export const persistOptions = {
  persister,
  maxAge: 7 * DAY,
  // Bump when the cached shapes change, so old caches are dropped.
  buster: "1",
  dehydrateOptions: {
    shouldDehydrateQuery: (q: { queryKey: readonly unknown[]; state: { status: string } }) =>
      q.queryKey[0] === CATALOG_KEY && q.state.status === "success",
  },
};
