// Renders the real app (its routes under src/app, the root layout with its
// providers and the SDK session) at a URL, with expo-router's test router.
import { renderRouter } from "expo-router/testing-library";
import path from "node:path";

export async function renderApp(url: string) {
  // With @testing-library/react-native 14, render (which renderRouter
  // calls) answers a promise.
  return await renderRouter(path.resolve(__dirname, "../app"), { initialUrl: url });
}
