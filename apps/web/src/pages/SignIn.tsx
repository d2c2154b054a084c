import { Code } from "@emporium/sdk";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { Field } from "../components/Field";
import { ErrorMessage, Notice } from "../components/Status";
import { useAuth } from "../lib/auth";
import { safeNext } from "../lib/next";
import { usePageTitle } from "../lib/usePageTitle";

export default function SignIn() {
  usePageTitle("Sign in");
  const { state, signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const errorRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  if (state.status === "signedIn" && !busy) return <Navigate to={next} replace />;
  const expired = params.get("expired") === "1" || (state.status === "signedOut" && state.expired);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email.trim(), password);
      void navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page narrow">
      <h1>Sign in</h1>
      {expired && <Notice>Your session has expired. Please sign in again.</Notice>}
      {params.get("reset") && <Notice tone="success">Your password has been changed. Sign in with the new one.</Notice>}
      <form onSubmit={submit} className="form" aria-label="Sign in">
        <div ref={errorRef} tabIndex={-1}>
          {error !== undefined && (
            <ErrorMessage error={error} overrides={{ [Code.Unauthenticated]: "That email and password don't match an account. Check them and try again." }} />
          )}
        </div>
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New to Emporium? <Link to={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>
      </p>
    </div>
  );
}
