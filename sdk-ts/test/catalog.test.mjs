// End-to-end tests of the SDK against the real `emporium dev` server (seeded
// demo catalog: ≥ 500 products in 20 categories), over both protocols.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  Code,
  ConnectError,
  createEmporiumClient,
  fieldViolations,
  isConnectError,
} from "../dist/index.js";
import { startEmporium } from "./support/server.mjs";

let server;

before(async () => {
  server = await startEmporium();
});

after(async () => {
  await server?.stop();
});

/** Asserts that `promise` rejects with a ConnectError whose code is one of `codes`. */
async function rejectsWithCode(promise, ...codes) {
  await assert.rejects(promise, (err) => {
    assert.ok(isConnectError(err), `expected a ConnectError, got ${err}`);
    assert.ok(err instanceof ConnectError);
    assert.ok(
      codes.includes(err.code),
      `expected code ${codes.map((c) => Code[c]).join(" or ")}, got ${Code[err.code]} (${err.message})`,
    );
    return true;
  });
}

const protocols = [
  { name: "connect (JSON)", protocol: "connect", useBinaryFormat: false },
  { name: "grpc-web (binary)", protocol: "grpc-web", useBinaryFormat: true },
];

for (const p of protocols) {
  describe(`catalog over ${p.name}`, () => {
    /** @type {import("../dist/index.js").EmporiumClient} */
    let shop;
    before(() => {
      shop = createEmporiumClient({
        baseUrl: server.baseUrl,
        protocol: p.protocol,
        useBinaryFormat: p.useBinaryFormat,
        timeoutMs: 30_000,
      });
    });

    it("ListCategories returns 20 categories with product counts", async () => {
      const { categories } = await shop.products.listCategories({});
      assert.equal(categories.length, 20);
      const slugs = new Set();
      let total = 0n;
      for (const c of categories) {
        assert.match(c.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/, `category slug ${JSON.stringify(c.slug)}`);
        assert.ok(c.name.length > 0, `category ${c.slug} has a name`);
        assert.equal(typeof c.productCount, "bigint");
        assert.ok(c.productCount > 0n, `category ${c.slug} has products (count ${c.productCount})`);
        slugs.add(c.slug);
        total += c.productCount;
      }
      assert.equal(slugs.size, 20, "category slugs are unique");
      assert.ok(total >= 500n, `the demo catalog has ≥ 500 active products, counted ${total}`);
    });

    it("ListProducts pages with nextPageToken", async () => {
      const first = await shop.products.listProducts({ pageSize: 5 });
      assert.equal(first.products.length, 5);
      assert.notEqual(first.nextPageToken, "", "first page has a nextPageToken");
      for (const prod of first.products) {
        assert.ok(prod.id && prod.slug && prod.title, "products have id, slug and title");
        assert.ok(prod.price, `product ${prod.slug} has a price`);
        assert.equal(typeof prod.price.amount, "bigint");
      }

      const second = await shop.products.listProducts({ pageSize: 5, pageToken: first.nextPageToken });
      assert.equal(second.products.length, 5);
      const firstIds = new Set(first.products.map((x) => x.id));
      assert.equal(firstIds.size, 5, "ids on a page are unique");
      for (const prod of second.products) {
        assert.ok(!firstIds.has(prod.id), `product ${prod.id} appears on both pages`);
      }
      assert.equal(new Set(second.products.map((x) => x.id)).size, 5);
    });

    it("ListProducts with a category filter returns only that category", async () => {
      const { categories } = await shop.products.listCategories({});
      const cat = categories.find((c) => c.productCount > 0n);
      assert.ok(cat, "some category has products");
      const { products } = await shop.products.listProducts({ category: cat.slug, pageSize: 100 });
      assert.ok(products.length > 0, `category ${cat.slug} lists products`);
      assert.equal(
        BigInt(products.length),
        cat.productCount < 100n ? cat.productCount : 100n,
        `ListProducts agrees with ListCategories' count for ${cat.slug}`,
      );
      for (const prod of products) {
        assert.equal(prod.category, cat.slug, `product ${prod.slug} is in ${cat.slug}`);
      }
    });

    it("GetProduct by slug returns the listed product", async () => {
      const { products } = await shop.products.listProducts({ pageSize: 3 });
      const listed = products[2];
      const { product } = await shop.products.getProduct({ key: { case: "slug", value: listed.slug } });
      assert.ok(product, "response has a product");
      assert.equal(product.id, listed.id);
      assert.equal(product.slug, listed.slug);

      const byId = await shop.products.getProduct({ key: { case: "id", value: listed.id } });
      assert.equal(byId.product?.slug, listed.slug);
    });

    it("GetProduct of an unknown slug fails with NotFound", async () => {
      const slug = `no-such-product-${Date.now().toString(36)}`;
      await rejectsWithCode(shop.products.getProduct({ key: { case: "slug", value: slug } }), Code.NotFound);
    });

    it("SearchProducts forgives a typo and returns facets and highlights", async () => {
      const { products } = await shop.products.listProducts({ pageSize: 50 });
      const pick = pickTypoTarget(products);
      assert.ok(pick, "some listed product has a title word of ≥ 5 letters");
      const { product, word, typo } = pick;

      // Page through the hits (relevance order) until the product shows up.
      let found;
      let first;
      let pageToken = "";
      for (let page = 0; page < 10 && !found; page++) {
        const res = await shop.products.searchProducts({ query: typo, pageSize: 100, pageToken });
        first ??= res;
        found = res.hits.find((h) => h.product?.id === product.id);
        pageToken = res.nextPageToken;
        if (!pageToken) break;
      }
      assert.ok(
        found,
        `searching ${JSON.stringify(typo)} (typo of ${JSON.stringify(word)}) finds ${JSON.stringify(product.title)} ` +
          `(${first.totalSize} hits)`,
      );
      assert.ok(first.totalSize > 0n);

      const facetNames = first.facets.map((f) => f.name);
      const wanted = ["category", "brand", "price"];
      for (const name of wanted) {
        assert.ok(facetNames.includes(name), `facet ${name} in [${facetNames.join(", ")}]`);
      }
      for (const facet of first.facets.filter((f) => wanted.includes(f.name))) {
        if (facet.name === "brand" && product.brand === "") continue; // brands are optional
        assert.ok(facet.values.length > 0, `facet ${facet.name} has values`);
        for (const v of facet.values) {
          assert.ok(v.count > 0n, `facet ${facet.name} value ${JSON.stringify(v.value)} has a count`);
        }
      }

      const fragments = Object.values(found.highlights).flatMap((s) => s.fragments);
      assert.ok(
        fragments.some((f) => f.includes("<mark>")),
        `a highlight of the hit contains <mark>: ${JSON.stringify(found.highlights)}`,
      );
    });

    it("ListProducts with pageSize 1000 fails with InvalidArgument", async () => {
      const call = shop.products.listProducts({ pageSize: 1000 });
      await rejectsWithCode(call, Code.InvalidArgument);
      const err = await call.catch((e) => e);
      const violations = fieldViolations(err);
      assert.ok(
        violations.some((v) => v.field === "page_size"),
        `a field violation names page_size: ${JSON.stringify(violations)}`,
      );
    });

    it("CreateProduct needs a staff token", async () => {
      const { products } = await shop.products.listProducts({ pageSize: 1 });
      const template = products[0];
      const slug = `sdk-test-${p.protocol}-${Date.now().toString(36)}`;
      const request = {
        slug,
        title: "SDK test product",
        category: template.category,
        variants: [
          {
            sku: `SDK-TEST-${Date.now().toString(36)}`,
            title: "Default",
            price: { amount: 1999n, currency: template.price?.currency || "USD" },
          },
        ],
      };

      // No token at all.
      await rejectsWithCode(shop.products.createProduct(request), Code.Unauthenticated, Code.PermissionDenied);

      // A token that is not a valid staff token (also exercises the token function).
      const withBadToken = createEmporiumClient({
        baseUrl: server.baseUrl,
        protocol: p.protocol,
        useBinaryFormat: p.useBinaryFormat,
        token: async () => "not-a-valid-token",
      });
      await rejectsWithCode(
        withBadToken.products.createProduct(request),
        Code.Unauthenticated,
        Code.PermissionDenied,
      );

      // And nothing was created.
      await rejectsWithCode(shop.products.getProduct({ key: { case: "slug", value: slug } }), Code.NotFound);
    });
  });
}

/**
 * Picks a listed product and a word of its title, and misspells the word by
 * changing its third letter. Prefers long words without the usual English
 * suffixes, so that stemming cannot hide the typo's closeness to the word.
 */
function pickTypoTarget(products) {
  const candidates = [];
  for (const product of products) {
    for (const raw of product.title.split(/[^A-Za-z]+/)) {
      const word = raw.toLowerCase();
      if (word.length < 5) continue;
      const suffixed = /(s|ing|ed|ly|er|es|e|y|ion|ment|ness|al|ful|able|ive)$/.test(word);
      candidates.push({ product, word, score: word.length + (suffixed ? 0 : 100) });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const best = candidates[0];
  if (!best) return undefined;
  const i = 2;
  const replacement = best.word[i] === "q" ? "z" : "q";
  const typo = best.word.slice(0, i) + replacement + best.word.slice(i + 1);
  return { product: best.product, word: best.word, typo };
}
