import type { CartLine } from "@emporium/sdk";
import { useRouter } from "expo-router";
import { FlatList, RefreshControl, StyleSheet, Text, View } from "react-native";
import { colors, space } from "../components/theme";
import { Button, ErrorNotice, Heading, Loading, Muted, Price, styles as ui } from "../components/ui";
import { useAuth } from "../lib/auth";
import { useCart, useCartChange } from "../lib/cart";

function Line({ line, busy, onSet, onRemove }: { line: CartLine; busy: boolean; onSet: (q: number) => void; onRemove: () => void }) {
  const qty = Number(line.quantity);
  return (
    <View style={styles.line} accessibilityLabel={`${line.title}, ${line.variantTitle}, quantity ${qty}`}>
      <View style={{ flex: 1 }}>
        <Text style={styles.title}>{line.title}</Text>
        <Muted>{line.variantTitle}</Muted>
        {line.issue ? <Text style={{ color: colors.error }}>{line.issue}</Text> : null}
        <View style={[ui.row, { marginTop: space.s }]}>
          <Button kind="secondary" label="−" accessibilityLabel={`One fewer ${line.title}`} disabled={busy || qty <= 1} onPress={() => onSet(qty - 1)} />
          <Text style={styles.qty} accessibilityLabel={`Quantity ${qty}`}>{qty}</Text>
          <Button kind="secondary" label="+" accessibilityLabel={`One more ${line.title}`} disabled={busy} onPress={() => onSet(qty + 1)} />
          <Button kind="link" label="Remove" accessibilityLabel={`Remove ${line.title}`} disabled={busy} onPress={onRemove} />
        </View>
      </View>
      <Price money={line.lineTotal} />
    </View>
  );
}

export default function CartScreen() {
  const router = useRouter();
  const { state } = useAuth();
  const cart = useCart();
  const change = useCartChange();
  if (cart.isPending) return <Loading label="Loading your cart…" />;
  const lines = cart.data?.lines ?? [];
  return (
    <FlatList
      data={lines}
      keyExtractor={(l) => l.sku}
      accessibilityLabel="Items in your cart"
      refreshControl={<RefreshControl refreshing={cart.isRefetching} onRefresh={() => void cart.refetch()} />}
      ListHeaderComponent={
        <View style={{ padding: space.l, paddingBottom: 0 }}>
          <Heading>Your cart</Heading>
          {cart.isError ? <ErrorNotice error={cart.error} onRetry={() => void cart.refetch()} /> : null}
          {change.isError ? <ErrorNotice error={change.error} onRetry={change.retry} /> : null}
        </View>
      }
      renderItem={({ item }) => (
        <Line
          line={item}
          busy={change.isPending}
          onSet={(quantity) => change.change({ kind: "set", sku: item.sku, quantity })}
          onRemove={() => change.change({ kind: "remove", sku: item.sku })}
        />
      )}
      ListEmptyComponent={
        cart.isError ? null : (
          <View style={{ padding: space.l, gap: space.m }}>
            <Muted>Your cart is empty.</Muted>
            <Button kind="secondary" label="Start shopping" onPress={() => router.navigate("/")} />
          </View>
        )
      }
      ListFooterComponent={
        lines.length > 0 && cart.data ? (
          <View style={{ padding: space.l, gap: space.m }}>
            <View style={styles.total}>
              <Text style={styles.title}>Subtotal</Text>
              <Price money={cart.data.subtotal} />
            </View>
            <Muted>Shipping and tax are worked out at checkout.</Muted>
            <Button
              label={state.status === "signedIn" ? "Check out" : "Sign in to check out"}
              onPress={() => router.push(state.status === "signedIn" ? "/checkout" : { pathname: "/sign-in", params: { next: "/checkout" } })}
            />
          </View>
        ) : null
      }
    />
  );
}

const styles = StyleSheet.create({
  line: {
    flexDirection: "row",
    gap: space.m,
    padding: space.l,
    borderBottomWidth: StyleSheet.hairlineWidth,
    borderBottomColor: colors.border,
  },
  title: { fontSize: 16, fontWeight: "600", color: colors.text },
  qty: { minWidth: 28, textAlign: "center", fontSize: 16 },
  total: { flexDirection: "row", justifyContent: "space-between" },
});
