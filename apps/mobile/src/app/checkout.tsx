import { formatMoney, type Order } from "@emporium/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "expo-router";
import { useCallback, useEffect, useRef, useState } from "react";
import { Pressable, ScrollView, StyleSheet, Text, View } from "react-native";
import { AddressForm } from "../components/AddressForm";
import { PayForm } from "../components/PayForm";
import { RequireSignIn } from "../components/RequireSignIn";
import { StripePay } from "../components/StripePay";
import { colors, space, TOUCH } from "../components/theme";
import { Button, ErrorNotice, Heading, Loading, Muted, Price, styles as ui } from "../components/ui";
import { emptyAddress, missingAddressFields, type AddressInput } from "../lib/address";
import { useCart } from "../lib/cart";
import { isTransient } from "../lib/errors";
import { newKey } from "../lib/ids";
import { USER_KEY } from "../lib/queryClient";
import { retryTransient } from "../lib/retry";
import { shop } from "../lib/shop";

function Radio({ label, checked, onPress, right }: { label: string; checked: boolean; onPress: () => void; right?: React.ReactNode }) {
  return (
    <Pressable accessibilityRole="radio" accessibilityLabel={label} accessibilityState={{ checked }} onPress={onPress} style={[styles.radio, checked && styles.radioOn]}>
      <Text style={styles.dot}>{checked ? "●" : "○"}</Text>
      <Text style={{ flex: 1, fontSize: 16 }}>{label}</Text>
      {right}
    </Pressable>
  );
}

function oneLine(a: AddressInput): string {
  return [a.name, a.line1, a.line2, a.city, a.region, a.postalCode, a.country].filter(Boolean).join(", ");
}

function CheckoutFlow() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const cart = useCart();
  const saved = useQuery({
    queryKey: [USER_KEY, "addresses"],
    queryFn: async () => (await shop.users.listAddresses({})).addresses,
  });
  const config = useQuery({
    queryKey: ["payment-config"],
    queryFn: async () => await shop.payments.getPaymentConfig({}),
    staleTime: Infinity,
  });
  const [savedId, setSavedId] = useState<string>(); // a saved address, or undefined for a new one
  const [address, setAddress] = useState<AddressInput>(emptyAddress);
  const [addressErrors, setAddressErrors] = useState<Record<string, string>>({});
  const [confirmed, setConfirmed] = useState<AddressInput>();
  const [rateId, setRateId] = useState<string>();
  const [order, setOrder] = useState<Order>();
  // One key for this checkout: retries after a timeout find the same order.
  const checkoutKey = useRef(newKey());

  // Start from the default saved address.
  useEffect(() => {
    const list = saved.data ?? [];
    const d = list.find((a) => a.defaultShipping) ?? list[0];
    if (d && savedId === undefined) setSavedId(d.id);
  }, [saved.data, savedId]);

  const quote = useQuery({
    queryKey: [USER_KEY, "cart", "quote", confirmed?.country, confirmed?.region, confirmed?.postalCode, rateId ?? ""],
    enabled: confirmed !== undefined && order === undefined,
    placeholderData: (prev) => prev,
    queryFn: async () => {
      const shipTo = { country: confirmed!.country, region: confirmed!.region, postalCode: confirmed!.postalCode };
      return (await shop.carts.getCart({ shipTo, shippingRateId: rateId ?? "" })).cart;
    },
  });
  const rates = quote.data?.shippingRates ?? [];
  useEffect(() => {
    if (!rateId && rates[0]) setRateId(rates[0].id);
  }, [rateId, rates]);

  const placeOrder = useMutation({
    mutationFn: async () => {
      const a = confirmed!;
      const res = await retryTransient(() =>
        shop.checkout.checkout({
          shippingAddress: { ...a, country: a.country.toUpperCase() },
          shippingRateId: rateId!,
          idempotencyKey: checkoutKey.current,
          expectedTotal: quote.data?.total,
        }),
      );
      return res.order!;
    },
    onSuccess: (o) => {
      setOrder(o);
      void queryClient.invalidateQueries({ queryKey: [USER_KEY, "cart"] });
    },
    onError: (err) => {
      // The cart must change before another try: that is another request, so another key.
      if (!isTransient(err)) checkoutKey.current = newKey();
    },
  });

  const orderId = useCallback(async () => (order ? order.id : (await placeOrder.mutateAsync()).id), [order, placeOrder]);
  const onPaid = useCallback(
    (id: string) => {
      void queryClient.invalidateQueries({ queryKey: [USER_KEY] });
      router.replace({ pathname: "/orders/[id]", params: { id, placed: "1" } });
    },
    [queryClient, router],
  );

  const useAddress = () => {
    const chosen = saved.data?.find((a) => a.id === savedId);
    const a: AddressInput = chosen
      ? { name: chosen.name, line1: chosen.line1, line2: chosen.line2, city: chosen.city, region: chosen.region, postalCode: chosen.postalCode, country: chosen.country || "US", phone: chosen.phone }
      : address;
    const missing = missingAddressFields(a);
    setAddressErrors(missing);
    if (Object.keys(missing).length > 0) return;
    setConfirmed(a);
    setRateId(undefined);
  };

  if (cart.isPending || saved.isPending) return <Loading label="Loading your cart…" />;
  if (!order && (!cart.data || cart.data.lines.length === 0)) {
    return (
      <View style={ui.screen}>
        <Heading>Checkout</Heading>
        <Muted>Your cart is empty.</Muted>
      </View>
    );
  }
  const priced = order ?? quote.data ?? cart.data ?? undefined;
  const payable = confirmed && rateId && quote.data?.shippingTotal && !quote.isFetching;

  return (
    <ScrollView contentContainerStyle={ui.screen} keyboardShouldPersistTaps="handled">
      <Heading>Checkout</Heading>

      <Heading level={2}>1. Shipping address</Heading>
      {confirmed ? (
        <View style={{ gap: space.s }}>
          <Text style={{ fontSize: 16 }}>{oneLine(confirmed)}</Text>
          {!order ? <Button kind="link" label="Change address" onPress={() => setConfirmed(undefined)} /> : null}
        </View>
      ) : (
        <View accessibilityRole="radiogroup" accessibilityLabel="Shipping address">
          {(saved.data ?? []).map((a) => (
            <Radio key={a.id} label={oneLine(a as AddressInput)} checked={savedId === a.id} onPress={() => setSavedId(a.id)} />
          ))}
          {(saved.data ?? []).length > 0 ? <Radio label="A new address" checked={savedId === ""} onPress={() => setSavedId("")} /> : null}
          {!savedId ? <AddressForm value={address} onChange={setAddress} errors={addressErrors} /> : null}
          <Button label="Continue to shipping" onPress={useAddress} />
        </View>
      )}

      <Heading level={2}>2. Shipping method</Heading>
      {!confirmed ? (
        <Muted>Enter your address to see delivery options.</Muted>
      ) : order ? (
        <Text>{order.shippingRate?.serviceName}</Text>
      ) : quote.isPending ? (
        <Loading label="Finding delivery options…" />
      ) : quote.isError ? (
        <ErrorNotice error={quote.error} onRetry={() => void quote.refetch()} />
      ) : rates.length === 0 ? (
        <Muted>We can't deliver to this address yet. Try another one.</Muted>
      ) : (
        <View accessibilityRole="radiogroup" accessibilityLabel="Shipping method">
          {rates.map((r) => (
            <Radio key={r.id} label={r.serviceName} checked={rateId === r.id} onPress={() => setRateId(r.id)} right={<Price money={r.price} />} />
          ))}
        </View>
      )}

      <View style={styles.totals} accessibilityLabel="Order summary">
        <Row label="Subtotal" value={formatMoney(priced?.subtotal)} />
        <Row label="Shipping" value={priced?.shippingTotal ? formatMoney(priced.shippingTotal) : "choose above"} />
        <Row label="Tax" value={priced?.taxTotal ? formatMoney(priced.taxTotal) : "—"} />
        <Row label="Total" value={formatMoney(priced?.total)} strong />
      </View>

      <Heading level={2}>3. Payment</Heading>
      {order ? <Muted>{`Order ${order.number} is reserved for you. Pay to confirm it.`}</Muted> : null}
      {placeOrder.isError ? <ErrorNotice error={placeOrder.error} /> : null}
      {(payable || order) && config.data?.provider === "stripe" ? (
        <StripePay publishableKey={config.data.publishableKey} orderId={orderId} amountLabel={formatMoney(priced?.total)} onPaid={onPaid} />
      ) : (payable || order) && config.data ? (
        <PayForm orderId={orderId} amountLabel={formatMoney(priced?.total)} onPaid={onPaid} tokenizePath={config.data.tokenizePath} />
      ) : config.isError ? (
        <ErrorNotice error={config.error} onRetry={() => void config.refetch()} />
      ) : (
        <Muted>Choose a shipping method first.</Muted>
      )}
    </ScrollView>
  );
}

function Row({ label, value, strong }: { label: string; value: string; strong?: boolean }) {
  return (
    <View style={styles.row}>
      <Text style={[styles.rowText, strong && styles.strong]}>{label}</Text>
      <Text style={[styles.rowText, strong && styles.strong]}>{value}</Text>
    </View>
  );
}

export default function Checkout() {
  return (
    <RequireSignIn>
      <CheckoutFlow />
    </RequireSignIn>
  );
}

const styles = StyleSheet.create({
  radio: {
    minHeight: TOUCH,
    flexDirection: "row",
    alignItems: "center",
    gap: space.m,
    padding: space.s,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 8,
    marginBottom: space.s,
  },
  radioOn: { borderColor: colors.primary, backgroundColor: colors.infoSurface },
  dot: { fontSize: 18, color: colors.primary },
  totals: { marginTop: space.l, padding: space.m, backgroundColor: colors.surface, borderRadius: 8, gap: space.xs },
  row: { flexDirection: "row", justifyContent: "space-between" },
  rowText: { fontSize: 16, color: colors.text },
  strong: { fontWeight: "700" },
});
