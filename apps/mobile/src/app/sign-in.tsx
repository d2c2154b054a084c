import { Code } from "@emporium/sdk";
import { useLocalSearchParams, useRouter } from "expo-router";
import { useState } from "react";
import { ScrollView, Text } from "react-native";
import { Button, ErrorNotice, Heading, Muted, Notice, TextField, styles as ui } from "../components/ui";
import { useAuth } from "../lib/auth";
import { safeNext } from "../lib/nav";
import { TOKENS_KEPT_IN } from "../lib/storage";

export default function SignIn() {
  const { next } = useLocalSearchParams<{ next?: string }>();
  const router = useRouter();
  const { signIn, state } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email.trim(), password);
      router.replace(safeNext(next));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <ScrollView contentContainerStyle={ui.screen} keyboardShouldPersistTaps="handled">
      <Heading>Sign in</Heading>
      {state.status === "signedOut" && state.expired ? (
        <Notice tone="info">
          <Text>Your session has ended. Sign in again; your cart is kept.</Text>
        </Notice>
      ) : null}
      <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" textContentType="emailAddress" />
      <TextField label="Password" value={password} onChangeText={setPassword} secureTextEntry autoComplete="current-password" textContentType="password" onSubmitEditing={() => void submit()} />
      {error ? <ErrorNotice error={error} overrides={{ [Code.Unauthenticated]: "That email and password don't match." }} /> : null}
      <Button label={busy ? "Signing in…" : "Sign in"} busy={busy} onPress={() => void submit()} />
      <Muted>{TOKENS_KEPT_IN}</Muted>
        <Button kind="link" label="Forgot your password?" onPress={() => router.push("/forgot-password")} />
      <Button kind="link" label="Create an account" onPress={() => router.replace({ pathname: "/register", params: next ? { next } : {} })} />
    </ScrollView>
  );
}
