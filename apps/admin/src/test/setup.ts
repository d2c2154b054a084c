// jsdom lacks a few browser APIs Naive UI reads at mount.
import { afterEach } from "vitest";

if (!globalThis.matchMedia) {
  globalThis.matchMedia = ((query: string) => ({
    matches: false, media: query, onchange: null,
    addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false,
  })) as unknown as typeof globalThis.matchMedia;
}
if (!globalThis.ResizeObserver) {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}

afterEach(() => {
  localStorage.clear();
  document.body.innerHTML = "";
});
