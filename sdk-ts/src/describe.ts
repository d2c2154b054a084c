// How a shop words API errors for shoppers: one mapping from Connect codes to
// sentences, shared by the web shop and the mobile app. Screens pass the raw
// error; they never show err.message.
import { Code, ConnectError, fieldViolations } from "./errors.js";

export interface ShopperError {
  /** One or two sentences for the shopper. */
  message: string;
  /** The session is gone: offer (or go to) the sign-in page. */
  signInAgain?: boolean;
  /** Worth trying again as it is (network, overload). */
  retryable?: boolean;
  /** Per-field messages from the server's validation, by field path. */
  fields?: Record<string, string>;
}

/** Messages that replace the defaults for one screen (e.g. a wrong password at sign-in). */
export type ErrorOverrides = Partial<Record<Code, string>>;

const SESSION_EXPIRED = "Your session has expired. Please sign in again.";
const OFFLINE = "We can't reach the shop right now. Check your connection and try again.";

/** The words for `err`, with `overrides` for codes that mean something else on this screen. */
export function describeError(err: unknown, overrides: ErrorOverrides = {}): ShopperError {
  if (!(err instanceof ConnectError)) {
    return { message: "Something went wrong. Please try again.", retryable: true };
  }
  const override = overrides[err.code];
  if (override) {
    return { message: override, fields: fieldsOf(err) };
  }
  switch (err.code) {
    case Code.Unauthenticated:
      return { message: SESSION_EXPIRED, signInAgain: true };
    case Code.PermissionDenied:
      return { message: "Your account can't do that." };
    case Code.NotFound:
      return { message: "We couldn't find that. It may have been removed." };
    case Code.ResourceExhausted:
      return isSoldOut(err.rawMessage)
        ? { message: sentence(err.rawMessage) }
        : { message: "You're going a little fast. Please wait a few seconds and try again.", retryable: true };
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.Aborted:
      // The services word these for shoppers ("X is sold out", "your cart is empty").
      return { message: sentence(err.rawMessage) };
    case Code.InvalidArgument: {
      const fields = fieldsOf(err);
      const first = Object.values(fields)[0];
      return {
        message: first ? `Please check the form: ${first}.` : `Please check the form: ${err.rawMessage}.`,
        fields,
      };
    }
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Canceled:
      return { message: OFFLINE, retryable: true };
    case Code.Unknown:
      return /fetch|network|load failed/i.test(err.rawMessage)
        ? { message: OFFLINE, retryable: true }
        : { message: "Something went wrong on our side. Please try again.", retryable: true };
    default:
      return { message: "Something went wrong on our side. Please try again in a moment.", retryable: true };
  }
}

/** Whether an error is worth retrying automatically (queries do, twice). */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof ConnectError &&
    (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Unknown)
  );
}

export function isCode(err: unknown, code: Code): boolean {
  return err instanceof ConnectError && err.code === code;
}

function isSoldOut(msg: string): boolean {
  return /sold out|out of stock|left in stock/i.test(msg);
}

function fieldsOf(err: ConnectError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of fieldViolations(err)) {
    const key = v.field.split(".").pop() ?? v.field;
    out[key] ??= v.message;
  }
  return out;
}

/** "your cart is empty" → "Your cart is empty." */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return "Something went wrong. Please try again.";
  const capped = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capped) ? capped : `${capped}.`;
}
