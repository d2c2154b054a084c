import { PersistQueryClientProvider } from "@tanstack/react-query-persist-client";
import { Stack } from "expo-router";
import { StatusBar } from "expo-status-bar";
import * as WebBrowser from "expo-web-browser";
import { useState } from "react";
import { View } from "react-native";
import { SafeAreaProvider } from "react-native-safe-area-context";
import { CartButton, HeaderLink } from "../components/CartButton";
import { colors } from "../components/theme";
import { AuthProvider } from "../lib/auth";
import { CATALOG_KEY, newQueryClient, persistOptions } from "../lib/queryClient";

// On the web, the bank's 3-D Secure page opens in a popup that comes back to
// one of the app's own URLs: this hands that URL to the waiting
// openAuthSessionAsync and closes the popup. Elsewhere it does nothing.
WebBrowser.maybeCompleteAuthSession();

function HeaderActions() {
  return (
    <View style={{ flexDirection: "row" }}>
      <HeaderLink href="/search" label="Search" />
      <HeaderLink href="/account" label="Account" />
      <CartButton />
    </View>
  );
}

export default function RootLayout() {
  const [queryClient] = useState(newQueryClient);
  return (
    <SafeAreaProvider>
      <PersistQueryClientProvider
        client={queryClient}
        persistOptions={persistOptions}
        // Saved pages show at once; the screens on display then ask the shop
        // again, and keep the saved copy under the offline banner if it fails.
        onSuccess={() => void queryClient.invalidateQueries({ queryKey: [CATALOG_KEY] })}
      >
        <AuthProvider>
          <StatusBar style="dark" />
          <Stack
            screenOptions={{
              headerTintColor: colors.primary,
              headerTitleStyle: { color: colors.text },
              headerRight: () => <HeaderActions />,
              // Every screen starts with its own heading; the bar keeps to the
              // back button and the actions, which fit a phone's width.
              headerTitle: "",
              contentStyle: { backgroundColor: colors.background },
            }}
          >
            <Stack.Screen name="index" options={{ title: "Emporium", headerTitle: "Emporium" }} />
            <Stack.Screen name="c/[slug]" options={{ title: "Category" }} />
            <Stack.Screen name="p/[slug]" options={{ title: "Product" }} />
            <Stack.Screen name="search" options={{ title: "Search" }} />
            <Stack.Screen name="cart" options={{ title: "Cart" }} />
            <Stack.Screen name="checkout" options={{ title: "Checkout" }} />
            <Stack.Screen name="sign-in" options={{ title: "Sign in" }} />
            <Stack.Screen name="register" options={{ title: "Create an account" }} />
            <Stack.Screen name="forgot-password" options={{ title: "Reset password" }} />
            <Stack.Screen name="account" options={{ title: "Account" }} />
            <Stack.Screen name="orders/index" options={{ title: "Orders" }} />
            <Stack.Screen name="orders/[id]" options={{ title: "Order" }} />
          </Stack>
        </AuthProvider>
      </PersistQueryClientProvider>
    </SafeAreaProvider>
  );
}
