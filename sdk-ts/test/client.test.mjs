// Client wiring, without a server: a fake fetch records what the SDK sends.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { create, toBinary } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import {
  Code,
  ConnectError,
  ListCategoriesResponseSchema,
  createEmporiumClient,
  createTransport,
  fieldViolations,
  isConnectError,
  productv1,
  userv1,
  authv1,
  Access,
  AuthService,
  Role,
  TokensSchema,
  UserSchema,
} from "../dist/index.js";

/** A fetch that answers every Connect unary call with `body` (JSON) and records requests. */
function fakeFetch(body = {}, status = 200) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), headers: new Headers(init.headers), method: init.method });
    return new Response(JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  };
  return { fetch, calls };
}

describe("createEmporiumClient", () => {
  it("calls <baseUrl>/<service>/<method> with JSON by default", async () => {
    const f = fakeFetch({ categories: [{ slug: "shoes", name: "Shoes", productCount: "7" }] });
    const shop = createEmporiumClient({ baseUrl: "http://edge.test:8080/", fetch: f.fetch });
    const res = await shop.products.listCategories({});
    assert.equal(res.categories[0].slug, "shoes");
    assert.equal(res.categories[0].productCount, 7n);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0].url, "http://edge.test:8080/emporium.product.v1.ProductService/ListCategories");
    assert.equal(f.calls[0].method, "POST");
    assert.equal(f.calls[0].headers.get("Content-Type"), "application/json");
    assert.equal(f.calls[0].headers.get("Authorization"), null);
  });

  it("has a client per service", () => {
    const shop = createEmporiumClient({ baseUrl: "http://x" });
    assert.equal(typeof shop.products.searchProducts, "function");
    assert.equal(typeof shop.inventory.getStock, "function");
    assert.equal(typeof shop.inventory.adjustStock, "function");
    assert.equal(typeof shop.searchAnalytics.listZeroResultSearchQueries, "function");
    assert.equal(typeof shop.auth.login, "function");
    assert.equal(typeof shop.auth.refresh, "function");
    assert.equal(typeof shop.users.register, "function");
    assert.equal(typeof shop.users.listUsers, "function");
  });

  it("calls AuthService and UserService at their paths", async () => {
    const f = fakeFetch({ user: { id: "u1", email: "a@example.com", roles: ["ROLE_CUSTOMER"] } });
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch, token: "tok" });
    const { user } = await shop.users.getMe({});
    assert.equal(user?.email, "a@example.com");
    assert.deepEqual(user?.roles, [Role.CUSTOMER]);
    await shop.auth.listProviders({});
    assert.deepEqual(
      f.calls.map((c) => c.url),
      ["http://x/emporium.user.v1.UserService/GetMe", "http://x/emporium.auth.v1.AuthService/ListProviders"],
    );
  });

  it("sends a string token as a bearer token", async () => {
    const f = fakeFetch();
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch, token: "abc.def" });
    await shop.products.listCategories({});
    assert.equal(f.calls[0].headers.get("Authorization"), "Bearer abc.def");
  });

  it("asks a token function before every call", async () => {
    const f = fakeFetch();
    let n = 0;
    const shop = createEmporiumClient({
      baseUrl: "http://x",
      fetch: f.fetch,
      token: async () => `t${++n}`,
    });
    await shop.products.listCategories({});
    await shop.products.listCategories({});
    assert.deepEqual(
      f.calls.map((c) => c.headers.get("Authorization")),
      ["Bearer t1", "Bearer t2"],
    );
  });

  it("sends no Authorization when the token function has none", async () => {
    const f = fakeFetch();
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch, token: () => undefined });
    await shop.products.listCategories({});
    assert.equal(f.calls[0].headers.get("Authorization"), null);
  });

  it("keeps an Authorization header given to the call", async () => {
    const f = fakeFetch();
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch, token: "default" });
    await shop.products.listCategories({}, { headers: { Authorization: "Bearer per-call" } });
    assert.equal(f.calls[0].headers.get("Authorization"), "Bearer per-call");
  });

  it("fails with Unauthenticated when the token function throws", async () => {
    const f = fakeFetch();
    const shop = createEmporiumClient({
      baseUrl: "http://x",
      fetch: f.fetch,
      token: () => {
        throw new Error("refresh failed");
      },
    });
    await assert.rejects(shop.products.listCategories({}), (err) => isConnectError(err, Code.Unauthenticated));
    assert.equal(f.calls.length, 0);
  });

  it("runs user interceptors inside the token interceptor", async () => {
    const f = fakeFetch();
    const seen = [];
    const shop = createEmporiumClient({
      baseUrl: "http://x",
      fetch: f.fetch,
      token: "tok",
      interceptors: [
        (next) => async (req) => {
          seen.push(req.header.get("Authorization"));
          req.header.set("X-Request-Source", "test");
          return next(req);
        },
      ],
    });
    await shop.products.listCategories({});
    assert.deepEqual(seen, ["Bearer tok"]);
    assert.equal(f.calls[0].headers.get("X-Request-Source"), "test");
  });

  it("sends the default timeout", async () => {
    const f = fakeFetch();
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch, timeoutMs: 1234 });
    await shop.products.listCategories({});
    const sent = Number(f.calls[0].headers.get("Connect-Timeout-Ms"));
    assert.ok(sent > 0 && sent <= 1234, `Connect-Timeout-Ms ${sent}`);
  });

  it("speaks gRPC-Web when asked, binary or JSON", async () => {
    for (const [useBinaryFormat, contentType] of [
      [true, "application/grpc-web+proto"],
      [false, "application/grpc-web+json"],
    ]) {
      const calls = [];
      const fetch = async (url, init) => {
        calls.push(new Headers(init.headers));
        // One gRPC-Web data frame (an empty message), then a trailer frame.
        const payload = useBinaryFormat
          ? toBinary(ListCategoriesResponseSchema, create(ListCategoriesResponseSchema))
          : new TextEncoder().encode("{}");
        const trailer = new TextEncoder().encode("grpc-status: 0\r\n");
        const frame = (flag, bytes) => {
          const out = new Uint8Array(5 + bytes.length);
          out[0] = flag;
          new DataView(out.buffer).setUint32(1, bytes.length);
          out.set(bytes, 5);
          return out;
        };
        const body = new Uint8Array([...frame(0, payload), ...frame(0x80, trailer)]);
        return new Response(body, { status: 200, headers: { "Content-Type": contentType } });
      };
      const shop = createEmporiumClient({ baseUrl: "http://x", protocol: "grpc-web", useBinaryFormat, fetch });
      const res = await shop.products.listCategories({});
      assert.deepEqual(res.categories, []);
      assert.equal(calls[0].get("Content-Type"), contentType);
    }
  });

  it("rejects bad options early", () => {
    assert.throws(() => createTransport({ baseUrl: "" }), TypeError);
    assert.throws(() => createTransport({ baseUrl: "http://x", protocol: "grpc" }), TypeError);
    assert.throws(() => createTransport({ baseUrl: "http://x", timeoutMs: -1 }), TypeError);
  });

  it("exports the generated code flat and per package", () => {
    assert.equal(productv1.ProductService.typeName, "emporium.product.v1.ProductService");
    assert.equal(productv1.InventoryService.typeName, "emporium.product.v1.InventoryService");
    assert.equal(userv1.UserService.typeName, "emporium.user.v1.UserService");
    assert.equal(userv1.Role.ADMIN, Role.ADMIN);
    // emporium.auth.v1 spans two files: access.proto and auth.proto.
    assert.equal(authv1.AuthService.typeName, "emporium.auth.v1.AuthService");
    assert.equal(authv1.AuthService, AuthService);
    assert.equal(authv1.Access.ADMIN, Access.ADMIN);
    assert.equal(TokensSchema.typeName, "emporium.auth.v1.Tokens");
    assert.equal(UserSchema.typeName, "emporium.user.v1.User");
  });
});

describe("errors", () => {
  it("turns a Connect error response into a ConnectError with its code", async () => {
    const f = fakeFetch({ code: "not_found", message: "product not found" }, 404);
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch });
    await assert.rejects(shop.products.getProduct({ key: { case: "slug", value: "nope" } }), (err) => {
      assert.ok(err instanceof ConnectError);
      assert.ok(isConnectError(err));
      assert.ok(isConnectError(err, Code.NotFound));
      assert.ok(!isConnectError(err, Code.Internal));
      assert.equal(err.rawMessage, "product not found");
      return true;
    });
  });

  it("isConnectError is false for other values", () => {
    assert.equal(isConnectError(new Error("x")), false);
    assert.equal(isConnectError(undefined), false);
  });

  it("fieldViolations reads buf.validate.Violations details", async () => {
    const violations = create(ViolationsSchema, {
      violations: [
        {
          field: { elements: [{ fieldNumber: 1, fieldName: "page_size" }] },
          ruleId: "int32.lte",
          message: "value must be less than or equal to 100",
        },
        {
          field: {
            elements: [
              { fieldNumber: 6, fieldName: "variants", subscript: { case: "index", value: 0n } },
              { fieldNumber: 4, fieldName: "price" },
            ],
          },
          ruleId: "required",
          message: "value is required",
        },
        {
          field: {
            elements: [{ fieldNumber: 8, fieldName: "attributes", subscript: { case: "stringKey", value: "a b" } }],
          },
          ruleId: "string.max_len",
          message: "too long",
        },
      ],
    });
    const body = {
      code: "invalid_argument",
      message: "validation error",
      details: [
        {
          type: "buf.validate.Violations",
          value: Buffer.from(toBinary(ViolationsSchema, violations)).toString("base64").replace(/=+$/, ""),
        },
      ],
    };
    const f = fakeFetch(body, 400);
    const shop = createEmporiumClient({ baseUrl: "http://x", fetch: f.fetch });
    const err = await shop.products.listProducts({ pageSize: 1000 }).catch((e) => e);
    assert.ok(isConnectError(err, Code.InvalidArgument));
    assert.deepEqual(fieldViolations(err), [
      { field: "page_size", message: "value must be less than or equal to 100", ruleId: "int32.lte" },
      { field: "variants[0].price", message: "value is required", ruleId: "required" },
      { field: 'attributes["a b"]', message: "too long", ruleId: "string.max_len" },
    ]);
    assert.deepEqual(fieldViolations(new Error("x")), []);
  });
});
