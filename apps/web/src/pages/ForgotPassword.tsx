import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { Field } from "../components/Field";
import { ErrorMessage, Notice } from "../components/Status";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

export default function ForgotPassword() {
  usePageTitle("Reset your password");
  const [email, setEmail] = useState("");
  const request = useMutation({ mutationFn: (e: string) => shop.users.requestPasswordReset({ email: e }) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate(email.trim());
  };
  return (
    <div className="page narrow">
      <h1>Reset your password</h1>
      {request.isSuccess ? (
        <Notice tone="success">
          If there is an account for {email.trim()}, we've sent it a link to choose a new password. It works for an hour.
        </Notice>
      ) : (
        <form onSubmit={submit} className="form" aria-label="Reset your password">
          <p>Enter your email and we'll send you a link to choose a new password.</p>
          {request.error && <ErrorMessage error={request.error} />}
          <Field label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <button type="submit" className="button button--primary button--block" disabled={request.isPending}>
            {request.isPending ? "Sending…" : "Send the link"}
          </button>
        </form>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </div>
  );
}
