import { useMutation } from "@tanstack/react-query";
import { Code } from "@emporium/sdk";
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

export default function VerifyEmail() {
  usePageTitle("Confirm your email");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const verify = useMutation({ mutationFn: () => shop.users.verifyEmail({ token }) });
  const { mutate } = verify;
  const sent = useRef(false); // a token works once: never send it twice (StrictMode runs effects twice)
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      mutate();
    }
  }, [token, mutate]);
  return (
    <div className="page narrow">
      <h1>Confirm your email</h1>
      {!token ? (
        <p>This page needs the link from your email.</p>
      ) : verify.isPending || verify.isIdle ? (
        <Loading label="Confirming…" />
      ) : verify.error ? (
        <ErrorMessage error={verify.error} overrides={{ [Code.NotFound]: "This link has expired or was already used.", [Code.FailedPrecondition]: "This link has expired or was already used." }} />
      ) : (
        <Notice tone="success">Thanks, your email address is confirmed.</Notice>
      )}
      <p><Link to="/">Continue shopping</Link></p>
    </div>
  );
}
