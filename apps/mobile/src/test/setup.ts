// Stand-ins for what the device provides and Jest has not: the native
// modules behind expo-crypto, expo-secure-store and AsyncStorage. They keep
// their documented behaviour (random ids, a key-value store), in memory.
jest.mock("@react-native-async-storage/async-storage", () =>
  require("@react-native-async-storage/async-storage/jest/async-storage-mock"),
);

jest.mock("expo-crypto", () => {
  const nodeCrypto: typeof import("node:crypto") = require("node:crypto");
  return {
    randomUUID: () => nodeCrypto.randomUUID(),
    getRandomBytes: (n: number) => new Uint8Array(nodeCrypto.randomBytes(n)),
  };
});

jest.mock("expo-secure-store", () => {
  const store = new Map<string, string>();
  return {
    getItemAsync: async (k: string) => store.get(k) ?? null,
    setItemAsync: async (k: string, v: string) => void store.set(k, v),
    deleteItemAsync: async (k: string) => void store.delete(k),
    __store: store,
  };
});

jest.mock("expo-web-browser", () => ({
  openAuthSessionAsync: jest.fn(async () => ({ type: "dismiss" })),
  openBrowserAsync: jest.fn(async () => ({ type: "opened" })),
  maybeCompleteAuthSession: jest.fn(() => ({ type: "failed", message: "No auth session is currently in progress" })),
}));

// Stripe's React Native SDK is a native module: every test that renders the
// checkout route loads it, so it gets Stripe's own Jest mock. The Stripe
// checkout test replaces it with a stand-in that records its calls.
jest.mock("@stripe/stripe-react-native", () => require("@stripe/stripe-react-native/jest/mock.js"));
