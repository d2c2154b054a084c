import type { Interceptor } from "@emporium/sdk";
import { newTraceparent } from "./ids";

/** Gives every request that has none a `traceparent` header of its own trace. */
export const traceparent: Interceptor = (next) => async (req) => {
  if (!req.header.has("traceparent")) req.header.set("traceparent", newTraceparent());
  return await next(req);
};
