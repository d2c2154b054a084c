// End-to-end test of the audit log clients (createAuditClient) against the
// real `emporium dev` server: an admin's change appears in the log of the
// service that made it, read through the edge at /audit/<service>/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { Code, auditedServices, createAuditClient, createEmporiumClient, isConnectError } from "../dist/index.js";
import { startEmporium } from "./support/server.mjs";

let server;

before(async () => {
  server = await startEmporium();
});

after(async () => {
  await server?.stop();
});

describe("audit log", () => {
  it("records an admin's stock change and serves it to admins only", async () => {
    const shop = createEmporiumClient({ baseUrl: server.baseUrl });
    const password = (await readFile(join(server.dataDir, "admin-password"), "utf8")).trim();
    const { tokens } = await shop.auth.login({ email: "admin@example.com", password });
    const admin = createEmporiumClient({ baseUrl: server.baseUrl, token: tokens.accessToken });

    const { products } = await shop.products.listProducts({ pageSize: 1 });
    const sku = products[0].variants[0].sku;
    await admin.inventory.adjustStock({ sku, delta: 3, reason: "restock", idempotencyKey: "sdk-audit-restock" });

    const productLog = createAuditClient({ baseUrl: server.baseUrl, token: tokens.accessToken }, "product");
    const { entries } = await productLog.listAuditEntries({ procedure: "AdjustStock" });
    assert.equal(entries.length, 1, "one AdjustStock in product's log");
    const [entry] = entries;
    assert.equal(entry.service, "product");
    assert.equal(entry.actor, tokens.userId);
    assert.equal(entry.procedure, "/emporium.product.v1.InventoryService/AdjustStock");
    assert.equal(entry.targetId, sku);
    assert.equal(entry.code, "ok");
    assert.match(entry.hash, /^[0-9a-f]{64}$/);
    assert.equal(JSON.parse(entry.requestJson).reason, "restock");

    // Every service's log answers, each on its own path; the order log is empty.
    for (const service of auditedServices) {
      const { breaks } = await createAuditClient({ baseUrl: `${server.baseUrl}/`, token: tokens.accessToken }, service).verifyAuditLog({});
      assert.deepEqual(breaks, [], `${service}'s chain is intact`);
    }
    const orders = await createAuditClient({ baseUrl: server.baseUrl, token: tokens.accessToken }, "order").listAuditEntries({});
    assert.equal(orders.entries.length, 0);

    // Without a token, the log is closed.
    await assert.rejects(createAuditClient({ baseUrl: server.baseUrl }, "product").listAuditEntries({}), (err) => {
      assert.ok(isConnectError(err) && err.code === Code.Unauthenticated, `got ${err}`);
      return true;
    });
  });

  it("names the services that keep a log", () => {
    assert.throws(() => createAuditClient({ baseUrl: "http://localhost:8080" }, "edge"), /keeps no audit log/);
  });
});
