import { useQuery } from "@tanstack/react-query";
import { useRouter } from "expo-router";
import { ScrollView, Text } from "react-native";
import { Button, ErrorNotice, Heading, Loading, Muted, styles as ui } from "../components/ui";
import { useAuth } from "../lib/auth";
import { USER_KEY } from "../lib/queryClient";
import { baseUrl, shop } from "../lib/shop";
import { TOKENS_KEPT_IN } from "../lib/storage";

function Me() {
  const me = useQuery({ queryKey: [USER_KEY, "me"], queryFn: async () => (await shop.users.getMe({})).user! });
  if (me.isPending) return <Loading label="Loading your account…" />;
  if (me.isError) return <ErrorNotice error={me.error} onRetry={() => void me.refetch()} />;
  return (
    <>
      <Text style={{ fontSize: 17 }}>{me.data.displayName || me.data.email}</Text>
      <Muted>{me.data.email}</Muted>
    </>
  );
}

export default function Account() {
  const router = useRouter();
  const { state, signOut } = useAuth();
  return (
    <ScrollView contentContainerStyle={[ui.screen, { gap: 12 }]}>
      <Heading>Account</Heading>
      {state.status === "signedIn" ? (
        <>
          <Me />
          <Button kind="secondary" label="Your orders" onPress={() => router.push("/orders")} />
          <Button kind="secondary" label="Sign out" onPress={() => void signOut().then(() => router.replace("/"))} />
          <Muted>{TOKENS_KEPT_IN}</Muted>
        </>
      ) : state.status === "signedOut" ? (
        <>
          <Muted>Sign in to check out and follow your orders. Your cart stays on this device until then.</Muted>
          <Button label="Sign in" onPress={() => router.push("/sign-in")} />
          <Button kind="secondary" label="Create an account" onPress={() => router.push("/register")} />
        </>
      ) : (
        <Loading label="Loading…" />
      )}
      <Muted>{`Shop: ${baseUrl}`}</Muted>
    </ScrollView>
  );
}
