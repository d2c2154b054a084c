import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ScrollView, Text } from "react-native";
import { Button, ErrorNotice, Heading, Muted, Notice, TextField, styles as ui } from "../components/ui";
import { shop } from "../lib/shop";

export default function ForgotPassword() {
  const [email, setEmail] = useState("");
  const request = useMutation({
    mutationFn: async () => await shop.users.requestPasswordReset({ email: email.trim() }),
  });
  return (
    <ScrollView contentContainerStyle={ui.screen} keyboardShouldPersistTaps="handled">
      <Heading>Reset your password</Heading>
      <Muted>We'll email you a link to choose a new password.</Muted>
      <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" />
      {request.isSuccess ? (
        <Notice tone="ok">
          <Text>If an account uses this email, a link is on its way.</Text>
        </Notice>
      ) : null}
      {request.isError ? <ErrorNotice error={request.error} onRetry={() => request.mutate()} /> : null}
      <Button label={request.isPending ? "Sending…" : "Send the link"} busy={request.isPending} disabled={!email.trim()} onPress={() => request.mutate()} />
    </ScrollView>
  );
}
