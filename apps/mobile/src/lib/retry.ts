import { isTransient } from "./errors";

/**
 * Runs `call` and, when it fails in a way that may not have reached the
 * server or whose answer was lost (a timeout, a dropped connection, a 503),
 * runs it again, up to `attempts` times in all, with a short backoff. Only
 * for calls that are safe to repeat: reads, or writes carrying the same
 * idempotency key on every try, which the server answers once.
 */
export async function retryTransient<T>(call: () => Promise<T>, attempts = 3, backoffMs = 500): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (i >= attempts || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, backoffMs * i));
    }
  }
}
