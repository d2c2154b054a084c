import { Code, ConnectError } from "@connectrpc/connect";
import {
  ViolationsSchema,
  type FieldPath,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

export { Code, ConnectError };

/**
 * Whether `err` is a ConnectError (every failed RPC rejects with one), and,
 * when `code` is given, whether it has that code:
 *
 * ```ts
 * if (isConnectError(err, Code.NotFound)) showNotFound();
 * ```
 */
export function isConnectError(err: unknown, code?: Code): err is ConnectError {
  return err instanceof ConnectError && (code === undefined || err.code === code);
}

/** One reason why the server refused a request's input. */
export interface FieldViolation {
  /** Path of the offending field, e.g. "page_size" or "variants[0].price". "" for message-level rules. */
  field: string;
  /** Human-readable reason, e.g. "value must be less than or equal to 100". */
  message: string;
  /** Machine-readable rule, e.g. "int32.lte". */
  ruleId: string;
}

/**
 * The field violations of an InvalidArgument error: Emporium services attach
 * a buf.validate.Violations detail when a request fails validation. Returns
 * [] for anything else.
 */
export function fieldViolations(err: unknown): FieldViolation[] {
  if (!(err instanceof ConnectError)) {
    return [];
  }
  const out: FieldViolation[] = [];
  for (const violations of err.findDetails(ViolationsSchema)) {
    for (const v of violations.violations) {
      out.push({ field: fieldPathToString(v.field), message: v.message, ruleId: v.ruleId });
    }
  }
  return out;
}

function fieldPathToString(path: FieldPath | undefined): string {
  let s = "";
  for (const el of path?.elements ?? []) {
    s += s === "" ? el.fieldName : `.${el.fieldName}`;
    switch (el.subscript.case) {
      case "index":
      case "intKey":
      case "uintKey":
      case "boolKey":
        s += `[${String(el.subscript.value)}]`;
        break;
      case "stringKey":
        s += `[${JSON.stringify(el.subscript.value)}]`;
        break;
      default:
        break;
    }
  }
  return s;
}
