// A guest's cart is found by the cart token the first AddItem returns; it is
// kept in AsyncStorage so the cart survives app restarts, and merged into the
// shopper's own cart when they sign in.
import AsyncStorage from "@react-native-async-storage/async-storage";

const KEY = "emporium.cartToken";

export const guestCart = {
  async token(): Promise<string> {
    try {
      return (await AsyncStorage.getItem(KEY)) ?? "";
    } catch {
      return "";
    }
  },
  async setToken(token: string): Promise<void> {
    if (token) await AsyncStorage.setItem(KEY, token).catch(() => undefined);
  },
  async clear(): Promise<void> {
    await AsyncStorage.removeItem(KEY).catch(() => undefined);
  },
};
