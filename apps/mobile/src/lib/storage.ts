// Where the app keeps things on the device.
//  - Tokens: the platform's secure store (Keychain on iOS, the Keystore on
//    Android) through expo-secure-store. The web build has no secure store:
//    it keeps them in sessionStorage, so they last as long as the browser
//    tab and are gone when it closes.
//  - The guest cart's token and cached catalog pages: AsyncStorage (not
//    secret; localStorage on the web).
import type { TokenStorage } from "@emporium/sdk";
import * as SecureStore from "expo-secure-store";
import { Platform } from "react-native";

/** Where the tokens are kept, in words for the sign-in screen. */
export const TOKENS_KEPT_IN =
  Platform.OS === "web"
    ? "On the web, you stay signed in only while this tab is open."
    : "You stay signed in on this device; your sign-in is kept in its secure storage.";

function memory(): TokenStorage {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v), remove: (k) => void m.delete(k) };
}

export function tokenStorage(): TokenStorage {
  if (Platform.OS === "web") {
    const s = globalThis.sessionStorage;
    if (!s) return memory();
    return { get: (k) => s.getItem(k), set: (k, v) => s.setItem(k, v), remove: (k) => s.removeItem(k) };
  }
  return {
    get: (k) => SecureStore.getItemAsync(k),
    set: (k, v) => SecureStore.setItemAsync(k, v),
    remove: (k) => SecureStore.deleteItemAsync(k),
  };
}
