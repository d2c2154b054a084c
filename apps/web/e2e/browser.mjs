// Debian's chromium driven by playwright-core (no downloaded browsers). The
// background-networking flags keep it from calling home on a closed network.
// Every launch gets a fresh, temporary profile (playwright's own
// --user-data-dir; it refuses one passed in args), deleted on close.
import { chromium } from "playwright-core";

export async function launchBrowser() {
  return chromium.launch({
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
  });
}
