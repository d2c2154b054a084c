// Where the edge answers. In order: EXPO_PUBLIC_EMPORIUM_URL (read when the
// app is bundled), app.json's expo.extra.apiUrl, then a default that fits
// `go tool task dev` on the developer's machine.
import Constants from "expo-constants";
import { Platform } from "react-native";

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function apiBaseUrl(): string {
  const fromEnv = process.env.EXPO_PUBLIC_EMPORIUM_URL;
  if (fromEnv) return trimSlash(fromEnv);
  const extra: unknown = Constants.expoConfig?.extra?.apiUrl;
  if (typeof extra === "string" && extra) return trimSlash(extra);
  if (Platform.OS === "web") {
    const loc = globalThis.location;
    if (!loc) return "http://localhost:8080";
    // `npx expo start --web` serves the app on :8081 beside the edge on :8080;
    // an exported build served by the edge (--web-dir) calls its own origin.
    return loc.port === "8081" ? `${loc.protocol}//${loc.hostname}:8080` : loc.origin;
  }
  // In development the phone reached Metro at hostUri ("192.168.1.20:8081"):
  // the edge runs on the same machine, on :8080 (`--listen 0.0.0.0:8080`).
  const host = Constants.expoConfig?.hostUri?.split(":")[0];
  if (host) return `http://${host}:8080`;
  // Android's emulator reaches the host machine at 10.0.2.2.
  return Platform.OS === "android" ? "http://10.0.2.2:8080" : "http://localhost:8080";
}
