import { Code, OrderStatus, ShipmentStatus, type Order, type Shipment } from "@emporium/sdk";
import { useQuery } from "@tanstack/react-query";
import * as WebBrowser from "expo-web-browser";
import { Stack, useLocalSearchParams } from "expo-router";
import { RefreshControl, ScrollView, StyleSheet, Text, View } from "react-native";
import { RequireSignIn } from "../../components/RequireSignIn";
import { colors, space } from "../../components/theme";
import { Button, ErrorNotice, Heading, Loading, Muted, Notice, Price, styles as ui } from "../../components/ui";
import { CARRIERS, formatDate, MAY_HAVE_PARCELS, PARCEL_LABELS, statusLabel, toDate } from "../../lib/orders";
import { USER_KEY } from "../../lib/queryClient";
import { shop } from "../../lib/shop";

const FINAL = new Set([ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.VOIDED]);

function Timeline({ label, items }: { label: string; items: { title: string; when: string; detail?: string }[] }) {
  return (
    <View accessibilityLabel={label} style={{ gap: space.s }}>
      {items.map((it, i) => (
        <View key={i} style={styles.event}>
          <Text style={styles.eventTitle}>{it.title}</Text>
          <Muted>{it.when}</Muted>
          {it.detail ? <Muted>{it.detail}</Muted> : null}
        </View>
      ))}
    </View>
  );
}

function Parcel({ shipment, n, titles }: { shipment: Shipment; n: number; titles: Map<string, string> }) {
  const events = [...shipment.events].reverse(); // newest first
  return (
    <View style={styles.parcel}>
      <Heading level={2}>{`Parcel ${n} · ${PARCEL_LABELS[shipment.status] ?? "Unknown"}`}</Heading>
      <Text>
        {CARRIERS[shipment.carrier] ?? shipment.carrier} · {shipment.service} · tracking {shipment.trackingNumber}
      </Text>
      {shipment.trackingUrl ? (
        <Button kind="link" label="Open the carrier's tracking page" onPress={() => void WebBrowser.openBrowserAsync(shipment.trackingUrl)} />
      ) : null}
      <Muted>{shipment.items.map((i) => `${titles.get(i.sku) ?? i.sku} × ${Number(i.quantity)}`).join(", ")}</Muted>
      {events.length > 0 ? (
        <Timeline
          label={`Tracking of parcel ${n}`}
          items={events.map((e) => ({ title: e.description || PARCEL_LABELS[e.status], when: formatDate(toDate(e.time)), detail: e.location }))}
        />
      ) : null}
    </View>
  );
}

function Parcels({ order }: { order: Order }) {
  const enabled = MAY_HAVE_PARCELS.has(order.status);
  const parcels = useQuery({
    queryKey: [USER_KEY, "order", order.id, "parcels"],
    queryFn: async () => (await shop.shipping.listOrderShipments({ orderId: order.id })).shipments,
    enabled,
    refetchInterval: (q) => (q.state.data?.some((s) => !FINAL.has(s.status)) ? 60_000 : false),
  });
  if (!enabled) return null;
  if (parcels.isError) return <ErrorNotice error={parcels.error} onRetry={() => void parcels.refetch()} />;
  const list = (parcels.data ?? []).filter((s) => s.status !== ShipmentStatus.VOIDED);
  const titles = new Map(order.lines.map((l) => [l.sku, `${l.title} (${l.variantTitle})`]));
  return (
    <>
      {list.map((s, i) => (
        <Parcel key={s.id} shipment={s} n={i + 1} titles={titles} />
      ))}
    </>
  );
}

function OrderView() {
  const { id = "", placed } = useLocalSearchParams<{ id: string; placed?: string }>();
  const order = useQuery({
    queryKey: [USER_KEY, "order", id],
    queryFn: async () => (await shop.orders.getOrder({ id })).order!,
    // A payment confirmed by the bank arrives a moment later.
    refetchInterval: (q) => (q.state.data?.status === OrderStatus.PENDING_PAYMENT ? 3000 : false),
  });
  if (order.isPending) return <Loading label="Loading the order…" />;
  if (!order.data) {
    return (
      <View style={ui.screen}>
        <ErrorNotice error={order.error} overrides={{ [Code.NotFound]: "We couldn't find this order." }} onRetry={() => void order.refetch()} />
      </View>
    );
  }
  const o = order.data;
  return (
    <ScrollView contentContainerStyle={ui.screen} refreshControl={<RefreshControl refreshing={order.isRefetching} onRefresh={() => void order.refetch()} />}>
      <Stack.Screen options={{ title: `Order ${o.number}` }} />
      <Heading>{`Order ${o.number}`}</Heading>
      {placed && o.status === OrderStatus.PAID ? (
        <Notice tone="ok">
          <Text>Thank you! Your order is paid. We'll email you when it ships.</Text>
        </Notice>
      ) : null}
      <Text style={styles.status} testID="order-status">
        {statusLabel(o.status)}
      </Text>
      {o.lines.map((l) => (
        <View key={l.sku} style={styles.line}>
          <Text style={{ flex: 1 }}>{`${l.title} · ${l.variantTitle} × ${Number(l.quantity)}`}</Text>
          <Price money={l.lineTotal} />
        </View>
      ))}
      <View style={styles.line}>
        <Text style={{ flex: 1, fontWeight: "700" }}>Total</Text>
        <Price money={o.total} />
      </View>
      <Parcels order={o} />
      <Heading level={2}>Status history</Heading>
      <Timeline
        label="Status history"
        items={o.history.map((h) => ({ title: statusLabel(h.to), when: formatDate(toDate(h.time)), detail: h.reason }))}
      />
    </ScrollView>
  );
}

export default function OrderScreen() {
  return (
    <RequireSignIn>
      <OrderView />
    </RequireSignIn>
  );
}

const styles = StyleSheet.create({
  status: { fontSize: 18, fontWeight: "700", color: colors.primary, marginBottom: space.m },
  line: { flexDirection: "row", gap: space.m, paddingVertical: space.s, borderBottomWidth: StyleSheet.hairlineWidth, borderBottomColor: colors.border },
  event: { borderLeftWidth: 3, borderLeftColor: colors.border, paddingLeft: space.m },
  eventTitle: { fontSize: 16, fontWeight: "600", color: colors.text },
  parcel: { marginTop: space.m, gap: space.xs },
});
