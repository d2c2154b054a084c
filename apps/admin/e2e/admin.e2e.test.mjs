// End to end: staff run the shop from the admin panel on a real `emporium
// dev` (the binary, SQLite, the payment simulator, the local carrier) in
// Debian's chromium. Run with `npm run test:e2e` after `npm run build` and
// `go tool task build`; `npm run screenshots` also writes
// docs/screenshots/admin-*.png.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createEmporiumClient, createSession, createSimulatorPaymentMethod, OrderStatus } from "@emporium/sdk";
import { chromium } from "playwright-core";
import { launchBrowser } from "../../e2e-kit/browser.mjs";
import { repoRoot, startShop } from "../../e2e-kit/server.mjs";

const adminDir = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");

const SHOTS = process.env.SCREENSHOTS === "1" ? join(repoRoot, "docs/screenshots") : undefined;
const TIMEOUT = 20_000;
// A 2×2 PNG, as a staff member's upload.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGNgYPj/n4GBgYGJAQoAAC4AAf0sN3sAAAAASUVORK5CYII=",
  "base64",
);

let shop;
let browser;
let context;
let page;
const problems = []; // console errors and page errors: a clean run has none

async function shot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `admin-${name}.png`), fullPage: false });
}

async function signInAs(email, password) {
  await page.goto("/admin/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A shopper with an account, signed in through the SDK's session, as the shop's pages would be. */
async function shopper(email) {
  const anon = createEmporiumClient({ baseUrl: shop.base });
  await anon.users.register({ email, password: "a long passphrase for tests", displayName: "Ada" });
  const session = createSession({ baseUrl: shop.base });
  await session.login(email, "a long passphrase for tests");
  return session;
}

before(async () => {
  shop = await startShop({ adminDir });
  browser = await launchBrowser(chromium);
  context = await browser.newContext({ baseURL: shop.base, viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUT);
  page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", async (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${new URL(r.url()).pathname}: ${(await r.text().catch(() => "")).slice(0, 300)}`);
  });
});

after(async () => {
  if (problems.length) console.error(`problems seen:\n${problems.join("\n")}`);
  await browser?.close();
  await shop?.stop();
});

test("a customer account is kept out of /admin/, and the server refuses its calls", async () => {
  const customer = await shopper("ada@example.com");
  await assert.rejects(customer.client.orders.listOrders({}), (err) => err instanceof ConnectError && err.code === Code.PermissionDenied);
  await signInAs("ada@example.com", "a long passphrase for tests");
  await page.getByText("This account has no access to the back office.").waitFor();
  await shot("sign-in-refused");
  await page.goto("/admin/orders");
  await page.waitForURL(/\/admin\/sign-in\?next=/);
});

test("staff create a product with two variants and an image, stock it, ship and part-refund a shopper's order", async () => {
  const anon = createEmporiumClient({ baseUrl: shop.base });
  const { categories } = await anon.products.listCategories({});
  const category = categories[0];

  await signInAs("admin@example.com", shop.adminPassword());
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByTestId("who").getByText("admin@example.com · admin").waitFor();
  await page.locator("canvas").first().waitFor(); // the chart's async chunk loaded and drew

  // A product with two variants and an image.
  await page.getByRole("link", { name: "Products" }).click();
  await page.getByRole("heading", { name: "Products" }).waitFor();
  await page.locator("tbody tr a").first().waitFor();
  await shot("products");
  await page.getByRole("button", { name: "New product" }).click();
  await page.getByLabel("Title").fill("Harbour Rain Shell");
  assert.equal(await page.getByLabel("Slug (the shop's URL)").inputValue(), "harbour-rain-shell"); // follows the title
  await page.getByLabel("Brand").fill("Emporium Test");
  await page.locator(".n-form-item", { hasText: "Category" }).locator(".n-base-selection").click();
  await page.locator(".n-base-select-option", { hasText: category.name }).first().click();
  await page.getByLabel("Description").fill("A light shell for wet harbours.");
  await page.getByRole("button", { name: "Add a variant" }).click();
  for (const [i, size, price] of [[0, "M", "89.00"], [1, "L", "92.50"]]) {
    await page.locator(`#v${i}-sku`).fill(`HRS-${size}`);
    await page.locator(`#v${i}-title`).fill(size);
    await page.locator(`#v${i}-options`).fill(`size=${size}`);
    await page.locator(`#v${i}-price`).fill(price);
    await page.locator(`#v${i}-weight`).fill("650");
  }
  await page.getByRole("button", { name: "Add an image" }).click();
  await page.locator("#img0-url").fill("/media/products/harbour-rain-shell.svg");
  await page.locator("#img0-alt").fill("The shell in navy");
  await shot("product-edit");
  await page.getByRole("button", { name: "Create product" }).click();
  await page.waitForURL(/\/admin\/products\/(?!new$)[^/]+$/);
  const productId = page.url().split("/").pop();
  await page.getByLabel("Alt text for the upload").fill("The shell, folded");
  await page.locator("#upload-file").setInputFiles({ name: "folded.png", mimeType: "image/png", buffer: PNG });
  await page.getByRole("img", { name: "The shell, folded" }).waitFor();
  const { product } = await anon.products.getProduct({ key: { case: "id", value: productId } });
  assert.equal(product.slug, "harbour-rain-shell");
  assert.deepEqual(product.variants.map((v) => [v.sku, v.price.amount, v.options.size]), [["HRS-M", 8900n, "M"], ["HRS-L", 9250n, "L"]]);
  assert.deepEqual(product.images.map((i) => i.alt), ["The shell in navy", "The shell, folded"]);
  assert.match(product.images[1].url, /^\/media\/uploads\//);
  const uploaded = await fetch(shop.base + product.images[1].url);
  assert.equal(uploaded.headers.get("content-type"), "image/png");

  // Stock for both SKUs.
  await page.getByRole("link", { name: "Stock of its SKUs" }).click();
  for (const sku of ["HRS-M", "HRS-L"]) {
    await page.locator(`#delta-${sku}`).fill("5");
    await page.locator(`#reason-${sku}`).fill("first delivery");
    await page.getByTestId(`adjust-${sku}`).getByRole("button", { name: /Apply/ }).click();
    await page.getByTestId(`on-hand-${sku}`).getByText("5", { exact: true }).waitFor();
    await page.getByTestId(`ledger-${sku}`).getByText("first delivery").waitFor();
  }
  await shot("inventory");
  const { levels } = await anon.inventory.getStock({ skus: ["HRS-M", "HRS-L"] });
  assert.deepEqual(levels.map((l) => [l.sku, l.onHand]).sort(), [["HRS-L", 5n], ["HRS-M", 5n]]);

  // A shopper buys it through the SDK.
  const buyer = await shopper("grace@example.com");
  await buyer.client.carts.addItem({ sku: "HRS-M", quantity: 2n });
  const { order } = await buyer.client.checkout.checkout({
    shippingRateId: "local:standard",
    idempotencyKey: crypto.randomUUID(),
    shippingAddress: { name: "Grace Hopper", line1: "1 Main St", city: "Oakland", region: "CA", postalCode: "94607", country: "US" },
  });
  const config = await buyer.client.payments.getPaymentConfig({});
  const pm = await createSimulatorPaymentMethod({ baseUrl: shop.base, tokenizePath: config.tokenizePath }, { number: "4242424242424242" });
  const paid = await buyer.client.checkout.payOrder({ orderId: order.id, paymentMethod: pm.id, idempotencyKey: crypto.randomUUID() });
  assert.equal(paid.order.status, OrderStatus.PAID);

  // Staff find it, ship it and open its label.
  await page.getByRole("link", { name: "Orders" }).click();
  await page.getByLabel("Search orders").fill(order.number);
  await page.getByRole("link", { name: order.number }).click();
  await page.getByTestId("order-status").getByText("paid").waitFor();
  await page.getByRole("button", { name: "Create shipment and labels" }).click();
  await page.getByTestId("shipments").getByText("label created").waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download label" }).click(),
  ]);
  assert.equal(readFileSync(await download.path()).subarray(0, 5).toString(), "%PDF-");
  const [viewer] = await Promise.all([context.waitForEvent("page"), page.getByRole("button", { name: "View label" }).click()]);
  assert.match(viewer.url(), /^blob:/);
  await viewer.close();

  // A partial refund, bounded by what is refundable.
  await page.getByText("Part", { exact: true }).click();
  await page.locator("#refund-amount").fill("10.00");
  await page.locator("#refund-reason").fill("a scuffed sleeve");
  await page.getByRole("button", { name: "Refund" }).click();
  await page.getByTestId("refunded").getByText("$10.00").waitFor();
  await shot("order");
  const { order: after } = await buyer.client.orders.getOrder({ id: order.id });
  assert.equal(after.refundedTotal.amount, 1000n);
  assert.ok([OrderStatus.PARTIALLY_REFUNDED].includes(after.status), `status ${OrderStatus[after.status]}`);

  // A stock CSV with one bad row is refused, naming that row; nothing changes.
  await page.getByRole("link", { name: "Import / export" }).click();
  await page.locator("#csv-file").setInputFiles({
    name: "stock.csv", mimeType: "text/csv", buffer: Buffer.from("sku,on_hand\nHRS-M,40\nHRS-L,lots\n"),
  });
  await page.getByTestId("csv-preview").getByText("lots").waitFor();
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByTestId("import-result").getByText("Nothing was changed").waitFor();
  const bad = page.getByTestId("import-problems").locator("tbody tr");
  assert.equal(await bad.count(), 1);
  assert.deepEqual((await bad.locator("td").allTextContents()).slice(0, 2), ["3", "on_hand"]);
  await shot("import");
  const { levels: unchanged } = await anon.inventory.getStock({ skus: ["HRS-M"] });
  assert.equal(unchanged[0].onHand, 3n); // 5, less the 2 sold

  // Each of those actions is in the audit log, linked to what it acted on.
  await page.getByRole("link", { name: "Audit log" }).click();
  const audit = page.getByTestId("audit");
  for (const action of ["CreateProduct", "UploadProductImage", "AdjustStock", "CreateShipment", "RefundOrder"]) {
    await audit.getByText(action, { exact: true }).first().waitFor();
  }
  await audit.getByRole("link", { name: "HRS-L" }).first().waitFor();
  await shot("audit");
  await page.getByLabel("Target id").fill(order.id);
  await audit.getByText("RefundOrder", { exact: true }).waitFor();
  await audit.getByText("AdjustStock", { exact: true }).waitFor({ state: "detached" });
  await audit.getByRole("link", { name: order.id }).first().click();
  await page.getByTestId("order-status").waitFor();

  // The rest of the back office renders for the screenshots (and without errors).
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByTestId("orders-Today").getByText("1 order", { exact: true }).waitFor();
  await page.locator("canvas").first().waitFor();
  await shot("dashboard");
  await page.getByRole("link", { name: "Categories" }).click();
  await page.getByTestId("categories").getByText(category.name, { exact: true }).waitFor();
  await shot("categories");
  await page.getByRole("link", { name: "Customers" }).click();
  await page.getByRole("link", { name: "grace@example.com" }).waitFor();
  await shot("customers");
  await page.getByRole("link", { name: "Templates" }).click();
  await page.locator(".n-base-selection").first().click();
  await page.locator(".n-base-select-option").first().click();
  await page.locator("iframe.preview").waitFor();
  await shot("templates");

  // A tablet's width: the menu folds away and nothing scrolls sideways.
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.goto(`/admin/orders/${order.id}`);
  await page.getByTestId("order-status").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the order page scrolls sideways by ${overflow}px at 820px`);
  await shot("order-tablet");

  assert.deepEqual(problems, []);
});
