import { Code } from "@emporium/sdk";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { Field } from "../components/Field";
import { ErrorMessage } from "../components/Status";
import { describeError } from "../lib/errors";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

export default function ResetPassword() {
  usePageTitle("Choose a new password");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const reset = useMutation({
    mutationFn: () => shop.users.resetPassword({ token, newPassword: password }),
    onSuccess: () => void navigate("/sign-in?reset=1", { replace: true }),
  });
  const overrides = {
    [Code.NotFound]: "This link has expired or was already used. Ask for a new one.",
    [Code.FailedPrecondition]: "This link has expired or was already used. Ask for a new one.",
    [Code.Unauthenticated]: "This link has expired or was already used. Ask for a new one.",
  };
  const fields = reset.error ? (describeError(reset.error, overrides).fields ?? {}) : {};
  if (!token) {
    return (
      <div className="page narrow">
        <h1>Choose a new password</h1>
        <p>This page needs the link from your email. <Link to="/forgot-password">Ask for a new link</Link></p>
      </div>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate();
  };
  return (
    <div className="page narrow">
      <h1>Choose a new password</h1>
      <form onSubmit={submit} className="form" aria-label="Choose a new password">
        {reset.error && <ErrorMessage error={reset.error} overrides={overrides} />}
        <Field label="New password" type="password" name="password" autoComplete="new-password" required minLength={12}
          value={password} onChange={(e) => setPassword(e.target.value)} hint="At least 12 characters." error={fields.new_password} />
        <button type="submit" className="button button--primary button--block" disabled={reset.isPending}>
          {reset.isPending ? "Saving…" : "Save the new password"}
        </button>
      </form>
      <p><Link to="/forgot-password">Ask for a new link</Link></p>
    </div>
  );
}
