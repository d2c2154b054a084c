import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuditService } from "./gen/emporium/audit/v1/audit_pb.js";
import { AuthService } from "./gen/emporium/auth/v1/auth_pb.js";
import { CartService, DiscountService } from "./gen/emporium/order/v1/cart_pb.js";
import { CheckoutService, OrderService } from "./gen/emporium/order/v1/order_pb.js";
import {
  DeliveryService,
  MailboxService,
  PreferenceService,
  TemplateService,
} from "./gen/emporium/notification/v1/manage_pb.js";
import { PaymentService } from "./gen/emporium/payment/v1/payment_pb.js";
import { SearchAnalyticsService } from "./gen/emporium/product/v1/analytics_pb.js";
import { InventoryService, ProductService } from "./gen/emporium/product/v1/product_pb.js";
import { ShippingService } from "./gen/emporium/shipping/v1/shipping_pb.js";
import { UserService } from "./gen/emporium/user/v1/user_pb.js";

/**
 * A bearer token, or a function that returns the current one (called before
 * every request, so it can refresh an expired token). `undefined` or an empty
 * string means "send no Authorization header".
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** Options of {@link createEmporiumClient} and {@link createTransport}. */
export interface EmporiumClientOptions {
  /** Where the edge answers, e.g. "http://localhost:8080" or "/" for the page's own origin. */
  baseUrl: string;
  /** Wire protocol; default "connect". Both work in browsers and in Node ≥ 18 (fetch). */
  protocol?: "connect" | "grpc-web";
  /** Protobuf binary instead of JSON; default false (JSON is readable in devtools). */
  useBinaryFormat?: boolean;
  /** A custom fetch (tests, SSR, `credentials: "include"` wrappers). Default: globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: TokenSource;
  /** Extra interceptors; they run after (inside) the token interceptor, so they see the header. */
  interceptors?: Interceptor[];
  /** Default deadline of every call in milliseconds; a call's own `timeoutMs` wins. */
  timeoutMs?: number;
}

/**
 * Every service the SDK knows, by the property name it gets on the client.
 * Adding a service to the API means adding one line here.
 */
export const emporiumServices = {
  products: ProductService,
  inventory: InventoryService,
  searchAnalytics: SearchAnalyticsService,
  auth: AuthService,
  users: UserService,
  carts: CartService,
  checkout: CheckoutService,
  orders: OrderService,
  payments: PaymentService,
  discounts: DiscountService,
  shipping: ShippingService,
  notificationPreferences: PreferenceService,
  notificationTemplates: TemplateService,
  notificationDeliveries: DeliveryService,
  mailbox: MailboxService,
} as const;

/** The services of {@link emporiumServices}, by name. */
export type EmporiumServices = typeof emporiumServices;

/** One typed Connect client per Emporium service, all sharing one transport. */
export type EmporiumClient = {
  readonly [K in keyof EmporiumServices]: Client<EmporiumServices[K]>;
};

/**
 * An interceptor that sets `Authorization: Bearer <token>` on every request,
 * unless the call already carries an Authorization header (set through the
 * call's `headers` option). A token function that throws fails the call with
 * a ConnectError of code Unauthenticated.
 */
export function bearerAuth(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("Authorization")) {
      let value: string | undefined;
      try {
        value = typeof token === "function" ? await token() : token;
      } catch (err) {
        throw ConnectError.from(err, Code.Unauthenticated);
      }
      if (value) {
        req.header.set("Authorization", `Bearer ${value}`);
      }
    }
    return next(req);
  };
}

/**
 * The transport behind {@link createEmporiumClient}, for libraries that take a
 * transport themselves, such as @connectrpc/connect-query's TransportProvider.
 */
export function createTransport(opts: EmporiumClientOptions): Transport {
  if (typeof opts.baseUrl !== "string" || opts.baseUrl === "") {
    throw new TypeError("@emporium/sdk: baseUrl is required, e.g. \"http://localhost:8080\"");
  }
  if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0)) {
    throw new TypeError(`@emporium/sdk: timeoutMs must be a positive number, got ${String(opts.timeoutMs)}`);
  }
  const interceptors: Interceptor[] = [];
  if (opts.token !== undefined) {
    interceptors.push(bearerAuth(opts.token));
  }
  interceptors.push(...(opts.interceptors ?? []));
  const common = {
    baseUrl: opts.baseUrl,
    useBinaryFormat: opts.useBinaryFormat ?? false,
    interceptors,
    fetch: opts.fetch,
    defaultTimeoutMs: opts.timeoutMs,
  };
  const protocol = opts.protocol ?? "connect";
  switch (protocol) {
    case "connect":
      return createConnectTransport(common);
    case "grpc-web":
      return createGrpcWebTransport(common);
    default:
      throw new TypeError(
        `@emporium/sdk: unknown protocol ${JSON.stringify(protocol as unknown)}; use "connect" or "grpc-web"`,
      );
  }
}

/** The typed clients of every Emporium service over an existing transport. */
export function createEmporiumClientFromTransport(transport: Transport): EmporiumClient {
  const client: Partial<Record<keyof EmporiumServices, unknown>> = {};
  for (const name of Object.keys(emporiumServices) as (keyof EmporiumServices)[]) {
    client[name] = createClient(emporiumServices[name], transport);
  }
  return Object.freeze(client) as EmporiumClient;
}

/**
 * Typed clients of every Emporium service, talking to the edge at
 * `opts.baseUrl`:
 *
 * ```ts
 * const shop = createEmporiumClient({ baseUrl: "http://localhost:8080" });
 * const { products } = await shop.products.listProducts({ pageSize: 20 });
 * ```
 */
export function createEmporiumClient(opts: EmporiumClientOptions): EmporiumClient {
  return createEmporiumClientFromTransport(createTransport(opts));
}

/**
 * The services that keep an audit log. Each serves AuditService for its own
 * log under its own path, /audit/<service>/, so a client reads one log per
 * service (see {@link createAuditClient}); the admin panel merges them.
 */
export const auditedServices = ["product", "user", "notification", "shipping", "payment", "order"] as const;

/** A service of {@link auditedServices}. */
export type AuditedService = (typeof auditedServices)[number];

/**
 * A client of one service's audit log (admin only), talking to the edge at
 * `opts.baseUrl`:
 *
 * ```ts
 * const audit = createAuditClient({ baseUrl: "/", token }, "order");
 * const { entries } = await audit.listAuditEntries({ procedure: "RefundOrder" });
 * ```
 */
export function createAuditClient(opts: EmporiumClientOptions, service: AuditedService): Client<typeof AuditService> {
  if (!(auditedServices as readonly string[]).includes(service)) {
    throw new TypeError(
      `@emporium/sdk: ${JSON.stringify(service)} keeps no audit log; use one of ${auditedServices.join(", ")}`,
    );
  }
  const base = typeof opts.baseUrl === "string" ? opts.baseUrl.replace(/\/+$/, "") : opts.baseUrl;
  return createClient(AuditService, createTransport({ ...opts, baseUrl: `${base}/audit/${service}` }));
}
