// @emporium/sdk: typed clients for the Emporium API, for browsers and Node.
//
// Generated code lives in ./gen (written by `buf generate`, never edited by
// hand). Every proto package is re-exported twice:
//   - flat (`export *`), so `import { ProductSchema, type Product } from "@emporium/sdk"` works;
//   - as a namespace named after the package (`productv1.Product`), which
//     stays unambiguous when two packages define the same name.
// When a new package exports a name that is already exported flat (say two
// packages both define `Address`), TypeScript reports TS2308 on its
// `export *` line: resolve it by exporting that package only as a namespace,
// or by re-exporting the clashing names explicitly under new names.

export * from "./gen/emporium/type/v1/money_pb.js";
export * from "./gen/emporium/type/v1/address_pb.js";
export * from "./gen/emporium/auth/v1/access_pb.js";
export * from "./gen/emporium/auth/v1/auth_pb.js";
export * from "./gen/emporium/product/v1/product_pb.js";
export * from "./gen/emporium/user/v1/user_pb.js";
export * from "./gen/emporium/order/v1/cart_pb.js";
export * from "./gen/emporium/order/v1/order_pb.js";
export * from "./gen/emporium/payment/v1/payment_pb.js";
export * from "./gen/emporium/shipping/v1/shipping_pb.js";
export * from "./gen/emporium/notification/v1/notification_pb.js";
export * from "./gen/emporium/notification/v1/manage_pb.js";
export * from "./gen/emporium/audit/v1/audit_pb.js";

// A package made of several files gets a barrel in ./pkg for its namespace.
export * as typev1 from "./pkg/typev1.js";
export * as authv1 from "./pkg/authv1.js";
export * as productv1 from "./gen/emporium/product/v1/product_pb.js";
export * as userv1 from "./gen/emporium/user/v1/user_pb.js";
export * as orderv1 from "./pkg/orderv1.js";
export * as paymentv1 from "./gen/emporium/payment/v1/payment_pb.js";
export * as shippingv1 from "./gen/emporium/shipping/v1/shipping_pb.js";
export * as notificationv1 from "./pkg/notificationv1.js";
export * as auditv1 from "./gen/emporium/audit/v1/audit_pb.js";

export {
  auditedServices,
  bearerAuth,
  createAuditClient,
  createEmporiumClient,
  createEmporiumClientFromTransport,
  createTransport,
  emporiumServices,
  type EmporiumClient,
  type AuditedService,
  type EmporiumClientOptions,
  type EmporiumServices,
  type TokenSource,
} from "./client.js";

export {
  createSession,
  type Session,
  type SessionOptions,
  type SessionTokens,
  type TokenStorage,
} from "./session.js";

export { formatMoney, type MoneyLike } from "./money.js";

export {
  createSimulatorPaymentMethod,
  SimulatorCardError,
  type SimulatorCard,
  type SimulatorOptions,
  type SimulatorPaymentMethod,
} from "./simulator.js";

export {
  Code,
  ConnectError,
  fieldViolations,
  isConnectError,
  type FieldViolation,
} from "./errors.js";

export type { CallOptions, Client, Interceptor, Transport } from "@connectrpc/connect";

// Helpers every shop front needs, shared by apps/web and apps/mobile.
export {
  describeError,
  isCode,
  isTransient,
  sentence,
  type ErrorOverrides,
  type ShopperError,
} from "./describe.js";

export { cardDigits, looksLikeCard, payOutcome, type PayOutcome } from "./payorder.js";

export {
  findVariant,
  initialSelection,
  isInStock,
  optionNames,
  optionValues,
  stockState,
  type Selection,
  type StockState,
} from "./variants.js";

export { highlightRuns } from "./highlight.js";
