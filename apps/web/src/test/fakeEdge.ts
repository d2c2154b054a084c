// A stand-in for the edge at the fetch level: the app's real SDK clients
// send real Connect JSON requests, and each answer is what the service
// would say. Only fetch is replaced, nothing of the app.
import { vi } from "vitest";

type Json = Record<string, unknown>;
export type Answer = Json | { error: { code: string; message: string } };
export type Handler = (body: Json, headers: Headers) => Answer | Promise<Answer>;

const HTTP_STATUS: Record<string, number> = {
  invalid_argument: 400, unauthenticated: 401, permission_denied: 403, not_found: 404,
  already_exists: 409, failed_precondition: 400, resource_exhausted: 429, unavailable: 503, internal: 500,
};

export interface Call {
  method: string; // "CartService/AddItem"
  body: Json;
  headers: Headers;
}

/** Replaces fetch with the handlers, keyed "Service/Method"; returns the calls made. */
export function fakeEdge(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://shop.test");
    const [, service = "", name = ""] = url.pathname.split("/"); // /emporium.product.v1.ProductService/GetProduct
    const method = `${service.split(".").pop()}/${name}`;
    const raw = init?.body;
    const text = ArrayBuffer.isView(raw) ? new TextDecoder().decode(raw) : typeof raw === "string" ? raw : "";
    const body = text ? (JSON.parse(text) as Json) : {};
    const headers = new Headers(init?.headers);
    calls.push({ method, body, headers });
    const handler = handlers[method];
    const answer: Answer = handler ? await handler(body, headers) : { error: { code: "unimplemented", message: `no fake for ${method}` } };
    if ("error" in answer && typeof answer.error === "object") {
      const { code } = answer.error as { code: string };
      return new Response(JSON.stringify(answer.error), { status: HTTP_STATUS[code] ?? 500, headers: { "Content-Type": "application/json" } });
    }
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  return calls;
}

/** An unsigned JWT with iat and exp, enough for the session to read its lifetime. */
export function fakeJwt(lifetimeSeconds = 900): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "EdDSA" })}.${b64({ sub: "user-1", iat: now, exp: now + lifetimeSeconds })}.sig`;
}

export const money = (amount: number, currency = "USD") => ({ amount: String(amount), currency });
