// End to end: the mobile app, exported for the web (react-native-web) and
// served by a real `emporium dev` (the binary, SQLite, the payment
// simulator), driven at phone size in Debian's chromium. Run with
// `npm run test:e2e` after `npm run export:web` and `go tool task build`;
// `npm run screenshots` also writes docs/screenshots/mobile-*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createEmporiumClient, OrderStatus } from "@emporium/sdk";
import { chromium } from "playwright-core";
import { launchBrowser } from "../../e2e-kit/browser.mjs";
import { repoRoot, startShop } from "../../e2e-kit/server.mjs";

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = process.env.SCREENSHOTS === "1" ? join(repoRoot, "docs/screenshots") : undefined;
const TIMEOUT = 20_000;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

let shop;
let browser;
let page;
const problems = []; // uncaught page errors: a clean run has none
const rpcs = []; // every RPC the app sends: { method, traceparent }

async function shot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.waitForTimeout(500); // let sheets finish sliding in
  await page.screenshot({ path: join(SHOTS, `mobile-${name}.png`) });
}

/** A screen's title: the navigation header shows it too, so the screen's own is the last. */
function heading(name) {
  return page.getByRole("heading", { name }).last();
}

/** The product links of a list (a category's, named after it). */
function productIn(list) {
  return page.getByLabel(list, { exact: true }).getByRole("link");
}

/** The header's cart link says how many items the cart holds. */
function cartLink(n) {
  return page.getByRole("link", { name: `Cart, ${n} ${n === 1 ? "item" : "items"}` });
}

async function addToCart() {
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
}

/** The signed-in shopper's SDK client, with the token the app keeps in sessionStorage. */
async function shopperClient() {
  const stored = await page.evaluate(() => sessionStorage.getItem("emporium.session"));
  assert.ok(stored, "the web build keeps the session in sessionStorage");
  return createEmporiumClient({ baseUrl: shop.base, token: JSON.parse(stored).accessToken });
}

async function fillAddress() {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address", { exact: true }).fill("1 Main St");
  await page.getByLabel("City").fill("Oakland");
  await page.getByLabel("State / region").fill("CA");
  await page.getByLabel("Postal code").fill("94607");
  await page.getByRole("button", { name: "Continue to shipping" }).click();
  await page.getByRole("radio").first().waitFor();
}

async function pay(card) {
  await page.getByLabel("Card number").fill(card);
  await page.getByRole("button", { name: /^Pay \$/ }).click();
}

before(async () => {
  shop = await startShop({ webDir: join(appRoot, "dist") });
  browser = await launchBrowser(chromium);
  const context = await browser.newContext({ baseURL: shop.base, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  context.setDefaultTimeout(TIMEOUT);
  context.on("request", (r) => {
    const m = new URL(r.url()).pathname.match(/^\/emporium\.[a-z]+\.v1\.(\w+\/\w+)$/);
    if (m && r.method() === "POST") rpcs.push({ method: m[1], traceparent: r.headers()["traceparent"] });
  });
  page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await shop?.stop();
});

const email = `ada.mobile.${Date.now()}@example.com`;
const PASSWORD = "correct horse battery staple";

test("a guest browses, searches with a typo and adds a product", async () => {
  await page.goto("/");
  await heading("Gear for every kind of weather").waitFor();
  await page.getByRole("link", { name: /^Jackets & Coats, \d+ products$/ }).waitFor();
  await shot("home");

  await page.getByRole("link", { name: /^Jackets & Coats, \d+ products$/ }).click();
  await heading("Jackets & Coats").waitFor();
  await productIn("Jackets & Coats").nth(5).waitFor();
  await shot("category");
  // Infinite scroll: a page holds 20 of the category's 26; scrolling to the
  // end asks for the next page and shows more than one page's worth.
  const products = productIn("Jackets & Coats");
  const pages = () => rpcs.filter((r) => r.method === "ProductService/ListProducts").length;
  const until = Date.now() + TIMEOUT;
  while (((await products.count()) <= 20 || pages() < 2) && Date.now() < until) {
    await products.last().scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, 2000);
    await page.waitForTimeout(200);
  }
  assert.ok(pages() >= 2, `scrolling to the end asks for the next page (${pages()} ListProducts calls)`);
  assert.ok((await products.count()) > 20, `more than a page is shown: ${await products.count()}`);

  await page.goto("/");
  await page.getByLabel("Search products").fill("waterprof jakcet");
  await page.getByLabel("Search products").press("Enter");
  await heading("Results for “waterprof jakcet”").waitFor();
  const marks = page.getByTestId("highlight-mark");
  await marks.first().waitFor();
  const marked = await marks.allInnerTexts();
  assert.ok(marked.some((m) => /waterproof/i.test(m)), `the typo finds "waterproof", highlighted: ${marked}`);
  assert.ok(marked.some((m) => /jacket/i.test(m)), `the typo finds "jacket", highlighted: ${marked}`);
  assert.equal(await page.locator("mark").count(), 0, "highlights are text, never HTML");
  await shot("search");

  await page.getByRole("button", { name: /^Filters/ }).click();
  await page.getByRole("checkbox").first().waitFor();
  await shot("search-filters");
  // A facet narrows the results to its count.
  const facet = page.getByRole("checkbox").first();
  const [, n] = (await facet.getAttribute("aria-label")).match(/, (\d+) results$/);
  await facet.click();
  await page.getByRole("button", { name: "Show results" }).click();
  await page.getByText(`${n} ${n === "1" ? "match" : "matches"}`, { exact: true }).waitFor();
  await page.getByRole("button", { name: "Filters (1)" }).waitFor();

  await page.getByRole("link", { name: /waterproof/i }).first().click();
  await page.getByTestId("stock").filter({ hasText: /In stock|Only \d+ left/ }).waitFor();
  await shot("product");
  await addToCart();
  await cartLink(1).waitFor();
});

test("a network failure during AddItem shows a retry that does not duplicate the line", async () => {
  await page.goto("/c/boots");
  await heading("Boots").waitFor();
  await productIn("Boots").first().click();
  await page.getByRole("button", { name: "Add to cart" }).waitFor();

  // The request reaches the shop, which adds the line; its answer never
  // reaches the phone (the connection drops on the way back).
  let dropped = 0;
  await page.route("**/emporium.order.v1.CartService/AddItem", async (route) => {
    if (dropped++ === 0) {
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByRole("button", { name: "Retry adding to cart" }).waitFor();
  await page.getByText("We can't reach the shop right now. Check your connection and try again.").waitFor();
  await page.getByRole("button", { name: "Retry adding to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.unroute("**/emporium.order.v1.CartService/AddItem");
  await cartLink(2).waitFor();

  const cartToken = await page.evaluate(() => localStorage.getItem("emporium.cartToken"));
  const { cart } = await createEmporiumClient({ baseUrl: shop.base }).carts.getCart({ cartToken });
  assert.deepEqual(cart.lines.map((l) => Number(l.quantity)), [1, 1], "two lines of one each: the retry added nothing twice");
  await page.getByRole("link", { name: "Cart, 2 items" }).click();
  await heading("Your cart").waitFor();
  await shot("cart");
});

test("the guest signs up, the cart merges, and 4242 pays the order", async () => {
  await page.getByRole("button", { name: "Sign in to check out" }).click();
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Your name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await heading("Checkout").waitFor();
  await cartLink(2).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("emporium.cartToken")), null, "the guest cart token is spent");
  assert.equal((await (await shopperClient()).carts.getCart({})).cart.lines.length, 2, "the account's cart holds both items");

  await fillAddress();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await shot("checkout");
  await pay("4242 4242 4242 4242");
  await page.getByText("Thank you! Your order is paid. We'll email you when it ships.").waitFor();
  await page.getByTestId("order-status").filter({ hasText: "Paid" }).waitFor();
  await shot("order");
  await cartLink(0).waitFor();

  const { orders } = await (await shopperClient()).orders.listMyOrders({});
  assert.equal(orders.length, 1, "one order, however the network behaved");
  assert.equal(orders[0].status, OrderStatus.PAID);
  assert.equal(orders[0].lines.length, 2);
});

test("a declined card charges nothing and leaves the order unpaid", async () => {
  await page.goto("/c/watches");
  await heading("Watches").waitFor();
  await productIn("Watches").first().click();
  await addToCart();
  await cartLink(1).click();
  await page.getByRole("button", { name: "Check out" }).click();
  await fillAddress();
  await pay("4000 0000 0000 0002");
  await page.getByText(/declined.*Nothing was charged\./).waitFor();
  await shot("checkout-declined");

  const { orders } = await (await shopperClient()).orders.listMyOrders({});
  assert.equal(orders.length, 2);
  const unpaid = orders.find((o) => o.status !== OrderStatus.PAID);
  assert.equal(unpaid?.status, OrderStatus.PENDING_PAYMENT, "the declined order stays unpaid");
});

test("3-D Secure: the bank's page opens, the shopper approves and comes back to the paid order", async () => {
  // The declined order is still on screen, waiting for another card.
  const bankPage = page.waitForEvent("popup");
  await pay("4000 0027 6000 3184");
  const bank = await bankPage;
  await bank.getByRole("button", { name: "Approve" }).click();
  await bank.getByText("The test payment succeeded.").waitFor();
  // The link back is the app's own URL: following it ends the auth session.
  const closed = bank.waitForEvent("close");
  await bank.getByRole("link", { name: "Back to the app" }).click();
  await closed; // expo-web-browser saw its return URL and closed the bank's page
  await page.getByTestId("order-status").filter({ hasText: "Paid" }).waitFor();
  const { orders } = await (await shopperClient()).orders.listMyOrders({});
  assert.deepEqual(orders.map((o) => o.status), [OrderStatus.PAID, OrderStatus.PAID], "both orders paid, once each");
});

test("offline, the app opens on the catalog pages it saved, under a banner", async () => {
  const rpc = /\/emporium\.[a-z]+\.v1\.\w+\/\w+$/;
  await page.route(rpc, (route) => route.abort("internetdisconnected"));
  try {
    await page.goto("/c/boots");
    await page.getByText(/^You're offline\. These are the results saved on this device/).waitFor();
    await productIn("Boots").first().waitFor();
    await shot("offline");
  } finally {
    await page.unroute(rpc);
  }
});

test("every request carried its own W3C traceparent, and nothing broke", () => {
  assert.ok(rpcs.length > 10, `RPCs were recorded: ${rpcs.length}`);
  const missing = rpcs.filter((r) => !TRACEPARENT.test(r.traceparent ?? ""));
  assert.deepEqual(missing, [], "every RPC carries a traceparent");
  assert.deepEqual(problems, []);
});
