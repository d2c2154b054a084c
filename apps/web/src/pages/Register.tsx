import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { Field } from "../components/Field";
import { ErrorMessage, Notice } from "../components/Status";
import { useAuth } from "../lib/auth";
import { describeError } from "../lib/errors";
import { safeNext } from "../lib/next";
import { usePageTitle } from "../lib/usePageTitle";

export default function Register() {
  usePageTitle("Create an account");
  const { state, register } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [form, setForm] = useState({ displayName: "", email: "", password: "" });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState("");
  const errorRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  if (state.status === "signedIn" && !busy) return <Navigate to={next} replace />;
  if (sentTo)
    return (
      <div className="page narrow">
        <h1>Check your mailbox</h1>
        <Notice>
          <p>
            We've sent a message to <strong>{sentTo}</strong>. If you already have an account with this address, it has a
            link to choose a new password.
          </p>
        </Notice>
        <p>
          Remembered your password? <Link to={`/sign-in?next=${encodeURIComponent(next)}`}>Sign in</Link>
        </p>
      </div>
    );
  const fields = error ? (describeError(error).fields ?? {}) : {};
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const email = form.email.trim();
      if ((await register({ ...form, email })) === "checkMailbox") setSentTo(email);
      else void navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page narrow">
      <h1>Create an account</h1>
      <form onSubmit={submit} className="form" aria-label="Create an account">
        <div ref={errorRef} tabIndex={-1}>
          {error !== undefined && <ErrorMessage error={error} />}
        </div>
        <Field label="Your name" name="displayName" autoComplete="name" value={form.displayName} onChange={set("displayName")} />
        <Field label="Email" type="email" name="email" autoComplete="email" required value={form.email} onChange={set("email")}
          error={fields.email} />
        <Field label="Password" type="password" name="password" autoComplete="new-password" required minLength={12}
          value={form.password} onChange={set("password")} error={fields.password}
          hint="At least 12 characters. A short sentence is easy to remember." />
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/sign-in?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </div>
  );
}
