import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import type { Address } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { AddressFields, emptyAddress, missingAddressFields, type AddressInput } from "../components/AddressFields";
import { Field } from "../components/Field";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { useAuth, USER_KEY } from "../lib/auth";
import { describeError } from "../lib/errors";
import { shop } from "../lib/shop";
import { usePageTitle } from "../lib/usePageTitle";

function Profile() {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: [USER_KEY, "me"], queryFn: async () => (await shop.users.getMe({})).user! });
  const [name, setName] = useState("");
  useEffect(() => setName(me.data?.displayName ?? ""), [me.data?.displayName]);
  const save = useMutation({
    mutationFn: async () =>
      (await shop.users.updateMe({ user: { displayName: name.trim() }, updateMask: create(FieldMaskSchema, { paths: ["display_name"] }) })).user!,
    onSuccess: (u) => queryClient.setQueryData([USER_KEY, "me"], u),
  });
  const resend = useMutation({ mutationFn: () => shop.users.requestEmailVerification({}) });
  if (me.isPending) return <Loading label="Loading your profile…" />;
  if (me.error) return <ErrorMessage error={me.error} onRetry={() => void me.refetch()} />;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} className="form" aria-label="Profile">
      <p>
        <strong>{me.data.email}</strong>{" "}
        {me.data.emailVerified ? <span className="status status--ok">Confirmed</span> : <span className="status status--wait">Not confirmed</span>}
      </p>
      {!me.data.emailVerified && (
        <p>
          {resend.isSuccess ? "We've sent you a new confirmation link." : (
            <button type="button" className="link-button" disabled={resend.isPending} onClick={() => resend.mutate()}>
              Send the confirmation link again
            </button>
          )}
        </p>
      )}
      <Field label="Your name" name="displayName" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
      {save.error && <ErrorMessage error={save.error} />}
      {save.isSuccess && <Notice tone="success">Saved.</Notice>}
      <button type="submit" className="button button--secondary" disabled={save.isPending}>
        {save.isPending ? "Saving…" : "Save"}
      </button>
    </form>
  );
}

function AddressCard({ address, onDelete, busy }: { address: Address; onDelete: () => void; busy: boolean }) {
  return (
    <li className="address-card">
      <address>
        {address.name}<br />{address.line1}{address.line2 && <>, {address.line2}</>}<br />
        {address.city} {address.region} {address.postalCode}<br />{address.country}
      </address>
      {address.defaultShipping && <span className="status status--ok">Default</span>}
      <button type="button" className="link-button" onClick={onDelete} disabled={busy} aria-label={`Delete the address ${address.line1}`}>
        Delete
      </button>
    </li>
  );
}

function Addresses() {
  const queryClient = useQueryClient();
  const key = [USER_KEY, "addresses"];
  const list = useQuery({ queryKey: key, queryFn: async () => (await shop.users.listAddresses({})).addresses });
  const [adding, setAdding] = useState(false);
  const [draft, setDraft] = useState<AddressInput>(emptyAddress);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const add = useMutation({
    mutationFn: () => shop.users.addAddress({ address: { ...draft, defaultShipping: (list.data?.length ?? 0) === 0 } }),
    onSuccess: () => {
      setAdding(false);
      setDraft(emptyAddress);
      void queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (err) => setErrors(describeError(err).fields ?? {}),
  });
  const remove = useMutation({
    mutationFn: (id: string) => shop.users.deleteAddress({ id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: key }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const missing = missingAddressFields(draft);
    setErrors(missing);
    if (Object.keys(missing).length === 0) add.mutate();
  };
  if (list.isPending) return <Loading label="Loading your addresses…" />;
  if (list.error) return <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />;
  return (
    <>
      {list.data.length === 0 ? <p className="muted">No saved addresses yet.</p> : (
        <ul className="addresses" aria-label="Saved addresses">
          {list.data.map((a) => (
            <AddressCard key={a.id} address={a} busy={remove.isPending} onDelete={() => remove.mutate(a.id)} />
          ))}
        </ul>
      )}
      {remove.error && <ErrorMessage error={remove.error} />}
      {adding ? (
        <form onSubmit={submit} className="form" aria-label="New address" noValidate>
          <AddressFields value={draft} onChange={setDraft} errors={errors} />
          {add.error && <ErrorMessage error={add.error} />}
          <p className="actions">
            <button type="submit" className="button button--primary" disabled={add.isPending}>Save address</button>
            <button type="button" className="button button--secondary" onClick={() => setAdding(false)}>Cancel</button>
          </p>
        </form>
      ) : (
        <button type="button" className="button button--secondary" onClick={() => setAdding(true)}>Add an address</button>
      )}
    </>
  );
}

function SignOut() {
  const { signOut, signOutEverywhere } = useAuth();
  const navigate = useNavigate();
  const everywhere = useMutation({
    mutationFn: signOutEverywhere,
    onSuccess: () => void navigate("/sign-in", { replace: true }),
  });
  return (
    <>
      <p className="actions">
        <button type="button" className="button button--secondary" onClick={() => void signOut().then(() => navigate("/"))}>
          Sign out
        </button>
        <button type="button" className="button button--secondary" disabled={everywhere.isPending} onClick={() => everywhere.mutate()}>
          {everywhere.isPending ? "Signing out…" : "Sign out everywhere"}
        </button>
      </p>
      <p className="muted small">“Sign out everywhere” ends your sessions on every phone and computer, this one included.</p>
      {everywhere.error && <ErrorMessage error={everywhere.error} />}
    </>
  );
}

function AccountView() {
  usePageTitle("Your account");
  return (
    <div className="page narrow">
      <h1>Your account</h1>
      <section aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <Profile />
      </section>
      <section aria-labelledby="addresses-title">
        <h2 id="addresses-title">Addresses</h2>
        <Addresses />
      </section>
      <section aria-labelledby="signout-title">
        <h2 id="signout-title">Sign out</h2>
        <SignOut />
      </section>
    </div>
  );
}

export default function Account() {
  return (
    <RequireAuth>
      <AccountView />
    </RequireAuth>
  );
}
