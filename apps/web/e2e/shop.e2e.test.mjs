// End to end: a shopper on a real `emporium dev` (the binary, SQLite, the
// payment simulator) in Debian's chromium. Run with `npm run test:e2e`
// after `npm run build` and `go tool task build`; `npm run screenshots`
// also writes docs/screenshots/*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createEmporiumClient, OrderStatus } from "@emporium/sdk";
import { chromium } from "playwright-core";
import { launchBrowser } from "../../e2e-kit/browser.mjs";
import { repoRoot, startShop } from "../../e2e-kit/server.mjs";

const webRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = process.env.SCREENSHOTS === "1" ? join(repoRoot, "docs/screenshots") : undefined;
const TIMEOUT = 20_000;

let shop;
let browser;
let context;
let page;
const problems = []; // console errors and failed requests: a clean run has none
const sent = []; // every request the pages send: { method, url, body }
const CARDS = ["4242424242424242", "4000000000000002", "4000002760003184"];
const TOKENIZE = "/payment-simulator/v1/payment_methods";

async function shot(name, p = page) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await p.waitForLoadState("networkidle").catch(() => {});
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function cartCount() {
  const label = await page.getByRole("link", { name: /^Cart, \d+ items?$/ }).getAttribute("aria-label");
  return Number(label.match(/\d+/)[0]);
}

async function addToCart() {
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
}

async function fillAddress() {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address", { exact: true }).fill("1 Main St");
  await page.getByLabel("City").fill("Oakland");
  await page.getByLabel("State / region").fill("CA");
  await page.getByLabel("Postal code").fill("94607");
  await page.getByLabel("Country").selectOption("US");
  await page.getByLabel("Phone (optional)").fill("+1 415 555 0100");
  await page.getByRole("button", { name: "Continue to shipping" }).click();
  await page.getByRole("radio").first().waitFor();
}

/** The first dev-mailbox message that matches, waiting for its delivery (messages go out through jobs). */
function mailTo(match) {
  return shop.mailTo(match, TIMEOUT);
}

/** The signed-in shopper's SDK client, with the token the page keeps. */
async function shopperClient() {
  const stored = await page.evaluate(() => localStorage.getItem("emporium.session"));
  const { accessToken } = JSON.parse(stored);
  return createEmporiumClient({ baseUrl: shop.base, token: accessToken });
}

before(async () => {
  shop = await startShop({ webDir: join(webRoot, "dist") });
  browser = await launchBrowser(chromium);
  context = await browser.newContext({ baseURL: shop.base, viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(TIMEOUT);
  context.on("request", (r) => sent.push({ method: r.method(), url: r.url(), body: r.postData() ?? "" }));
  page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await shop?.stop();
});

const email = `ada.${Date.now()}@example.com`;
let paidOrderId; // the order the sign-up test pays, which staff then ship
const PASSWORD = "correct horse battery staple";

test("a guest browses, searches with a typo and fills a cart that survives a reload", async () => {
  await page.goto("/");
  await page.getByRole("heading", { level: 1, name: "Gear for every kind of weather" }).waitFor();
  const categories = page.getByRole("list", { name: "Categories" }).getByRole("link");
  await categories.first().waitFor();
  assert.ok((await categories.count()) >= 10, "the home page lists the categories");
  await page.getByRole("list", { name: "New arrivals" }).getByRole("listitem").first().waitFor();
  await shot("home");

  await page.getByRole("link", { name: /Jackets & Coats/ }).click();
  await page.getByRole("heading", { level: 1, name: "Jackets & Coats" }).waitFor();
  const grid = page.getByRole("list", { name: "Jackets & Coats" });
  await grid.getByRole("listitem").first().waitFor();
  assert.ok((await grid.getByRole("listitem").count()) >= 20);
  await shot("category");

  await page.getByRole("searchbox", { name: "Search products" }).fill("waterprof jakcet");
  await page.getByRole("searchbox", { name: "Search products" }).press("Enter");
  await page.getByRole("heading", { level: 1, name: "Results for “waterprof jakcet”" }).waitFor();
  const results = page.getByRole("list", { name: "Search results" });
  await results.getByRole("listitem").first().waitFor();
  const marks = await results.locator("mark").allInnerTexts();
  assert.ok(marks.some((m) => /waterproof/i.test(m)), `the typo finds "waterproof", highlighted: ${marks}`);
  assert.ok(marks.some((m) => /jacket/i.test(m)), `the typo finds "jacket", highlighted: ${marks}`);
  await page.getByRole("group", { name: "Brand" }).waitFor();
  await shot("search");

  await results.getByRole("link").first().click();
  await page.getByRole("heading", { level: 1 }).waitFor();
  await page.getByRole("status").filter({ hasText: /In stock|Only \d+ left/ }).waitFor();
  await shot("product");
  await addToCart();
  assert.equal(await cartCount(), 1);

  await page.goto("/c/boots");
  await page.getByRole("list", { name: "Boots" }).getByRole("link").first().click();
  await page.getByRole("button", { name: "Add to cart" }).waitFor();
  await addToCart();
  assert.equal(await cartCount(), 2);

  await page.reload();
  await page.getByRole("link", { name: "Cart, 2 items" }).waitFor();
  await page.getByRole("link", { name: "Cart, 2 items" }).click();
  await page.getByRole("heading", { level: 1, name: "Your cart" }).waitFor();
  assert.equal(await page.getByRole("list", { name: "Items in your cart" }).getByRole("listitem").count(), 2);
  await shot("cart");
});

test("the guest signs up, the cart comes along, and a card pays the order", async () => {
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
  await page.getByLabel("Your name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  // Back to checkout, signed in, with the guest cart merged into the account's.
  await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
  await page.getByRole("link", { name: "Cart, 2 items" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Account", exact: true }).count(), 1);
  assert.equal(await page.evaluate(() => localStorage.getItem("emporium.cartToken")), null, "the guest cart token is spent");
  assert.equal(((await (await shopperClient()).carts.getCart({})).cart.lines.length), 2, "the server-side cart holds both items");

  await fillAddress();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: /^Pay \$/ }).waitFor();
  await shot("checkout");
  await page.getByRole("button", { name: /^Pay \$/ }).click();

  await page.waitForURL(/\/orders\/[^/]+\?placed=1$/);
  await page.getByText("Thank you! Your payment went through").waitFor();
  await page.getByRole("heading", { level: 1, name: /^Order EMP-/ }).waitFor();
  const history = page.getByRole("list", { name: "Status history" });
  await history.getByText("Paid").waitFor();
  await shot("order");
  await page.getByRole("link", { name: "Cart, 0 items" }).waitFor();

  paidOrderId = page.url().match(/orders\/([^?]+)/)[1];
  const { order } = await (await shopperClient()).orders.getOrder({ id: paidOrderId });
  assert.equal(order.status, OrderStatus.PAID);
  assert.equal(order.lines.length, 2);
  const confirmation = await mailTo((m) => m.to === email && m.text.includes(order.number));
  assert.ok(confirmation, `an order confirmation for ${order.number} in the mailbox`);
});

test("staff ship the order and the shopper follows the parcel", async () => {
  const anon = createEmporiumClient({ baseUrl: shop.base });
  const { tokens } = await anon.auth.login({ email: "admin@example.com", password: shop.adminPassword() });
  const staff = createEmporiumClient({ baseUrl: shop.base, token: tokens.accessToken });
  const { order } = await staff.orders.getOrder({ id: paidOrderId });
  const { shipments } = await staff.shipping.createShipment({
    orderId: order.id, rateId: "local:standard", idempotencyKey: `e2e-ship-${order.id}`,
    parcels: [{ weightGrams: 1500n, items: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) }],
  });
  const tracking = shipments[0].trackingNumber;

  await page.goto(`/orders/${order.id}`);
  await page.getByRole("heading", { name: "Your parcel" }).waitFor();
  await page.getByRole("listitem", { name: /^Parcel 1 · Label created$/ }).getByText(tracking).waitFor();
  await page.getByRole("list", { name: "Status history" }).getByText("Shipped", { exact: true }).waitFor();
  await shot("order-shipped");
  // One email and one SMS (to the delivery address's phone) carry the tracking number.
  const shippedMail = await mailTo((m) => m.to === email && m.channel !== "sms" && m.text.includes(tracking));
  assert.ok(shippedMail, `a shipping email with ${tracking} in the mailbox`);
  const sms = await mailTo((m) => m.channel === "sms" && m.to === "+14155550100" && m.text.includes(tracking));
  assert.ok(sms, `a shipping SMS with ${tracking} in the mailbox`);
});

test("a declined card says so and charges nothing; 3-D Secure then pays", async () => {
  await page.goto("/c/watches");
  await page.getByRole("list", { name: "Watches" }).getByRole("link").first().click();
  await page.getByRole("button", { name: "Add to cart" }).waitFor();
  await addToCart();
  await page.goto("/checkout");
  await fillAddress();
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByRole("button", { name: /^Pay \$/ }).click();
  const alert = page.getByRole("alert").filter({ hasText: "declined" });
  await alert.waitFor();
  assert.match(await alert.innerText(), /Your card was declined\..*Nothing was charged\./s);
  await shot("checkout-declined");
  assert.match(page.url(), /\/checkout$/, "the shopper stays on checkout to try another card");

  const client = await shopperClient();
  const { orders } = await client.orders.listMyOrders({ pageSize: 1 });
  const declined = orders[0];
  assert.equal(declined.status, OrderStatus.PENDING_PAYMENT, "the order is still unpaid");
  assert.ok(declined.history.every((h) => h.to !== OrderStatus.PAID), "and was never paid");

  // The order page offers the payment again; this card asks the bank first.
  await page.goto(`/orders/${declined.id}`);
  await page.getByText("Awaiting payment").first().waitFor();
  await page.getByLabel("Card number").fill("4000 0027 6000 3184");
  await page.getByRole("button", { name: /^Pay \$/ }).click();
  const [bank] = await Promise.all([
    context.waitForEvent("page"),
    page.getByRole("link", { name: /Confirm with your bank/ }).click(),
  ]);
  await bank.getByRole("button", { name: "Approve" }).click();
  await bank.getByText("The test payment succeeded.").waitFor();
  await bank.close();
  await page.getByRole("list", { name: "Status history" }).getByText("Paid").waitFor();
  assert.equal((await client.orders.getOrder({ id: declined.id })).order.status, OrderStatus.PAID);
});

test("card digits go only to the payment provider's tokenizer, never to the API", async () => {
  const digitsIn = (r) => {
    const text = decodeURIComponent(`${r.url} ${r.body}`.replace(/\+/g, " ")).replace(/[\s-]/g, "");
    return CARDS.filter((c) => text.includes(c));
  };
  const tokenized = sent.filter((r) => r.method === "POST" && new URL(r.url).pathname === TOKENIZE);
  assert.deepEqual(
    [...new Set(tokenized.flatMap(digitsIn))].sort(),
    [...CARDS].sort(),
    "every test card was typed, and went to the simulator's tokenizer (Stripe's API in production)",
  );
  const leaks = sent.filter((r) => !tokenized.includes(r) && digitsIn(r).length > 0);
  assert.deepEqual(leaks, [], "no other request the pages sent carries card digits");

  const pays = sent.filter((r) => r.url.endsWith("/emporium.order.v1.CheckoutService/PayOrder"));
  assert.ok(pays.length >= 3, `PayOrder was called for each card (${pays.length} calls)`);
  for (const p of pays) assert.match(JSON.parse(p.body).paymentMethod, /^pm_sim_[a-z]+$/, "PayOrder got a payment method id");
});

test("signing out everywhere on another device sends this one to sign in again", async () => {
  const other = await browser.newContext({ baseURL: shop.base, viewport: { width: 1280, height: 860 } });
  other.setDefaultTimeout(TIMEOUT);
  const phone = await other.newPage();
  await phone.goto("/sign-in?next=%2Faccount");
  await phone.getByLabel("Email").fill(email);
  await phone.getByLabel("Password").fill(PASSWORD);
  await phone.getByRole("button", { name: "Sign in" }).click();
  await phone.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
  await phone.getByText(email).waitFor();
  await shot("account", phone);
  await phone.getByRole("button", { name: "Sign out everywhere" }).click();
  await phone.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await other.close();

  // This tab's access token, though unexpired, is refused at once: the
  // session's refresh fails too, and the shopper is asked to sign in.
  await page.goto("/orders");
  await page.getByText("Your session has expired. Please sign in again.").waitFor();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Your orders" }).waitFor();
  const orders = page.getByRole("list", { name: "Orders" }).getByRole("listitem");
  await orders.first().waitFor();
  assert.equal(await orders.count(), 2);
});

test("a forgotten password is reset through the link in the mailbox", async () => {
  await page.goto("/account");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  // The sign-in page (with its own Email field) stays on screen while the
  // next page's code loads: wait for the new page before typing into it.
  await page.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByText(/we've sent it a link/).waitFor();

  const mail = await mailTo((m) => m.to === email && /reset-password\?token=/.test(m.text));
  assert.ok(mail, `a reset message for ${email} in the mailbox`);
  const link = new URL(mail.text.match(/https?:\/\/\S+reset-password\?token=[\w-]+/)[0]);
  await page.goto(link.pathname + link.search);
  await page.getByLabel("New password", { exact: true }).fill(`${PASSWORD} again`);
  await page.getByRole("button", { name: "Save the new password" }).click();
  await page.getByText("Your password has been changed.").waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(`${PASSWORD} again`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Account", exact: true }).waitFor();
});

test("signing up with an email that has an account says to check the mailbox", async () => {
  await page.goto("/account");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  const resets = async () =>
    (await (await fetch(`${shop.base}/dev/mailbox?format=json`)).json()).messages.filter(
      (m) => m.to === email && /reset-password\?token=/.test(m.text),
    ).length;
  const before = await resets();
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("somebody else's passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { level: 1, name: "Check your mailbox" }).waitFor();
  await page.getByText(`We've sent a message to ${email}`).waitFor();
  // The owner is sent a link to choose a new password; nothing else changed.
  const deadline = Date.now() + TIMEOUT;
  while ((await resets()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(await resets(), before + 1, `a reset message for ${email} after the sign-up`);
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(`${PASSWORD} again`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Account", exact: true }).waitFor();
});

test("a sold-out variant cannot be added", async () => {
  const catalog = createEmporiumClient({ baseUrl: shop.base });
  const { products } = await catalog.products.listProducts({ category: "jackets", pageSize: 100 });
  const product = products.find((p) => p.variants.some((v) => v.stock === 0n) && p.variants.some((v) => v.stock > 0n));
  assert.ok(product, "the demo catalog has a jacket with one size sold out");
  const soldOut = product.variants.find((v) => v.stock === 0n);
  await page.goto(`/p/${product.slug}`);
  await page.getByRole("button", { name: "Add to cart" }).waitFor();
  for (const [name, value] of Object.entries(soldOut.options)) {
    const group = page.getByRole("group", { name: new RegExp(`^${name}:`, "i") });
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await group.locator("label", { hasText: new RegExp(`^${escaped}(, sold out)?$`) }).click();
  }
  await page.getByRole("status").filter({ hasText: "Sold out" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Sold out" }).isDisabled(), true);
});

test("phone width and no errors in the console", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/c/jackets");
  await page.getByRole("list", { name: "Jackets & Coats" }).getByRole("listitem").first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
  await shot("category-phone");
  const unexpected = problems.filter((p) => !/401|Unauthorized|status of 4\d\d/.test(p));
  assert.deepEqual(unexpected, []);
});
