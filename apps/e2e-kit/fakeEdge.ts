// A stand-in for the edge at the fetch level, for the unit tests of the web
// shop and the admin panel (vitest) and the mobile app (Jest): the app's
// real SDK clients send real Connect JSON requests, and each answer is what
// the service would say. Only fetch is replaced, nothing of the app, and
// without either runner's API, so that both can load it.

type Json = Record<string, unknown>;
export type Answer = Json | { error: { code: string; message: string; details?: unknown[] } } | Response | "network-failure";
export type Handler = (body: Json, headers: Headers) => Answer | Promise<Answer>;

const HTTP_STATUS: Record<string, number> = {
  invalid_argument: 400, unauthenticated: 401, permission_denied: 403, not_found: 404,
  already_exists: 409, failed_precondition: 400, resource_exhausted: 429, unavailable: 503, internal: 500,
};

export interface Call {
  method: string; // "CartService/AddItem", or the path of anything else the edge serves: "/payment-simulator/v1/payment_methods"
  body: Json;
  headers: Headers;
}

/**
 * Replaces fetch with the handlers, keyed "Service/Method" (or by path for
 * what is not an RPC); returns the calls made. Form bodies are read into
 * objects like JSON ones; a handler may answer with a Response of its own,
 * or "network-failure" to fail the way fetch does when the connection drops
 * (React Native's message).
 */
export function fakeEdge(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://app.test");
    const [, service = "", name = ""] = url.pathname.split("/"); // /emporium.product.v1.ProductService/GetProduct
    const method = service.startsWith("emporium.") ? `${service.split(".").pop()}/${name}` : url.pathname;
    const raw = init?.body;
    const text = ArrayBuffer.isView(raw) ? new TextDecoder().decode(raw) : typeof raw === "string" ? raw : "";
    const headers = new Headers(init?.headers);
    const form = headers.get("Content-Type")?.startsWith("application/x-www-form-urlencoded");
    const body = !text ? {} : form ? Object.fromEntries(new URLSearchParams(text)) : (JSON.parse(text) as Json);
    calls.push({ method, body, headers });
    const handler = handlers[method];
    const answer: Answer = handler ? await handler(body, headers) : { error: { code: "unimplemented", message: `no fake for ${method}` } };
    if (answer === "network-failure") throw new TypeError("Network request failed");
    if (answer instanceof Response) return answer;
    if ("error" in answer && typeof answer.error === "object") {
      const { code } = answer.error as { code: string };
      return new Response(JSON.stringify(answer.error), { status: HTTP_STATUS[code] ?? 500, headers: { "Content-Type": "application/json" } });
    }
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return calls;
}

/** An unsigned JWT with iat and exp, enough for the session to read its lifetime. */
export function fakeJwt(lifetimeSeconds = 900): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "EdDSA" })}.${b64({ sub: "user-1", iat: now, exp: now + lifetimeSeconds })}.sig`;
}

export const money = (amount: number, currency = "USD") => ({ amount: String(amount), currency });
