// How the apps' end-to-end tests launch Debian's chromium with
// playwright-core (no downloaded browsers). The background-networking flags
// keep it from calling home on a closed network. Every launch gets a fresh,
// temporary profile (playwright's own --user-data-dir; it refuses one passed
// in args), deleted on close.
//
// Each app imports chromium from its own playwright-core and passes it in:
//   import { chromium } from "playwright-core";
//   const browser = await launchBrowser(chromium);
export function launchOptions() {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
    ],
  };
}

/** `chromium` is playwright-core's, from the calling app's node_modules. */
export function launchBrowser(chromium) {
  return chromium.launch(launchOptions());
}
