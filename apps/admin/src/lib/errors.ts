// Every error staff see is worded here, once, from the Connect code the edge
// answered with. Pages pass the raw error; they never show err.message.
import { Code, ConnectError, fieldViolations } from "@emporium/sdk";

export interface StaffError {
  /** One or two sentences for staff. */
  message: string;
  /** The session is gone: sign in again. */
  signInAgain?: boolean;
  /** Someone else changed the record first: reload it before saving again. */
  conflict?: boolean;
  /** Worth trying again as it is (network, overload). */
  retryable?: boolean;
  /** Per-field messages from the server's validation, by full field path ("variants[1].sku"). */
  fields: Record<string, string>;
}

/** Messages that replace the defaults for one screen. */
export type ErrorOverrides = Partial<Record<Code, string>>;

const OFFLINE = "The shop's server can't be reached. Check the connection and try again.";

/** The words for `err`, with `overrides` for codes that mean something else on this screen. */
export function describeError(err: unknown, overrides: ErrorOverrides = {}): StaffError {
  if (!(err instanceof ConnectError)) {
    return { message: "Something went wrong. Please try again.", retryable: true, fields: {} };
  }
  const fields = fieldsOf(err);
  const override = overrides[err.code];
  if (override) return { message: override, fields, conflict: err.code === Code.Aborted };
  switch (err.code) {
    case Code.Unauthenticated:
      return { message: "Your session has ended. Sign in again.", signInAgain: true, fields };
    case Code.PermissionDenied:
      return { message: "Your role does not allow this. Ask an admin.", fields };
    case Code.NotFound:
      return { message: `Not found: ${sentence(err.rawMessage)}`, fields };
    case Code.Aborted:
      return {
        message: "Someone else changed this while you were editing. Reload to see their changes, then make yours again.",
        conflict: true,
        fields,
      };
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
      // The services word these for people ("stock would go below zero").
      return { message: sentence(err.rawMessage), fields };
    case Code.ResourceExhausted:
      return { message: "Too many requests. Wait a few seconds and try again.", retryable: true, fields };
    case Code.InvalidArgument: {
      const first = Object.entries(fields)[0];
      return {
        message: first ? `Check the form: ${first[0]} ${first[1]}.` : `Check the form: ${err.rawMessage}.`,
        fields,
      };
    }
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Canceled:
      return { message: OFFLINE, retryable: true, fields };
    case Code.Unknown:
      return /fetch|network|load failed/i.test(err.rawMessage)
        ? { message: OFFLINE, retryable: true, fields }
        : { message: "The server failed. Try again; if it keeps failing, tell the developers.", retryable: true, fields };
    default:
      return {
        message: `The server failed (${sentence(err.rawMessage)}) Try again; if it keeps failing, tell the developers.`,
        retryable: true,
        fields,
      };
  }
}

/** Field violations by path, with the request's wrapper dropped: "product.variants[0].sku" → "variants[0].sku". */
export function fieldsOf(err: ConnectError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of fieldViolations(err)) {
    const key = v.field.replace(/^product\./, "");
    out[key] ??= v.message;
  }
  return out;
}

/** Whether an error is worth retrying automatically (queries do, twice). */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof ConnectError &&
    (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Unknown)
  );
}

/** "stock would go below zero" → "Stock would go below zero." */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return "Something went wrong.";
  const capped = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capped) ? capped : `${capped}.`;
}
