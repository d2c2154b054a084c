import { Link, useLocation } from "react-router";
import { describeError, type ErrorOverrides } from "../lib/errors";

/** A loading state that screen readers announce. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** An error in the shopper's words, with a way forward (try again, sign in again). */
export function ErrorMessage({
  error,
  overrides,
  onRetry,
}: {
  error: unknown;
  overrides?: ErrorOverrides;
  onRetry?: () => void;
}) {
  const location = useLocation();
  const e = describeError(error, overrides);
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <div className="notice notice--error" role="alert">
      <p>{e.message}</p>
      {e.signInAgain && (
        <p>
          <Link to={`/sign-in?next=${next}`}>Sign in again</Link>
        </p>
      )}
      {e.retryable && onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children, tone = "info" }: { children: React.ReactNode; tone?: "info" | "success" }) {
  return (
    <div className={`notice notice--${tone}`} role="status">
      {children}
    </div>
  );
}
