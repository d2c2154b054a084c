import { useLocalSearchParams, useRouter } from "expo-router";
import { useState } from "react";
import { ScrollView, Text } from "react-native";
import { describeError } from "@emporium/sdk";
import { Button, ErrorNotice, Heading, Muted, Notice, TextField, styles as ui } from "../components/ui";
import { useAuth } from "../lib/auth";
import { safeNext } from "../lib/nav";

export default function Register() {
  const { next } = useLocalSearchParams<{ next?: string }>();
  const router = useRouter();
  const { register } = useAuth();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [checkMailbox, setCheckMailbox] = useState(false);
  const [busy, setBusy] = useState(false);
  const fields = error ? (describeError(error).fields ?? {}) : {};

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const res = await register({ email: email.trim(), password, displayName: name.trim() });
      if (res === "checkMailbox") setCheckMailbox(true);
      else router.replace(safeNext(next));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <ScrollView contentContainerStyle={ui.screen} keyboardShouldPersistTaps="handled">
      <Heading>Create an account</Heading>
      {checkMailbox ? (
        <Notice tone="info">
          <Text>This email may already have an account: we've sent it a link to choose a new password.</Text>
        </Notice>
      ) : null}
      <TextField label="Your name" value={name} onChangeText={setName} autoComplete="name" error={fields["display_name"]} />
      <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" error={fields["email"]} />
      <TextField
        label="Password"
        value={password}
        onChangeText={setPassword}
        secureTextEntry
        autoComplete="new-password"
        hint="At least 12 characters."
        error={fields["password"]}
      />
      {error ? <ErrorNotice error={error} /> : null}
      <Button label={busy ? "Creating your account…" : "Create account"} busy={busy} onPress={() => void submit()} />
      <Muted>Your guest cart comes with you.</Muted>
    </ScrollView>
  );
}
