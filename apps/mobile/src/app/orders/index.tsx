import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "expo-router";
import { FlatList, Pressable, RefreshControl, StyleSheet, Text, View } from "react-native";
import { RequireSignIn } from "../../components/RequireSignIn";
import { colors, space, TOUCH } from "../../components/theme";
import { ErrorNotice, Heading, Loading, Muted, Price } from "../../components/ui";
import { formatDate, statusLabel, toDate } from "../../lib/orders";
import { USER_KEY } from "../../lib/queryClient";
import { shop } from "../../lib/shop";

function OrderList() {
  const orders = useInfiniteQuery({
    queryKey: [USER_KEY, "orders"],
    initialPageParam: "",
    queryFn: async ({ pageParam }) => await shop.orders.listMyOrders({ pageSize: 20, pageToken: pageParam }),
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const items = orders.data?.pages.flatMap((p) => p.orders) ?? [];
  return (
    <FlatList
      data={items}
      keyExtractor={(o) => o.id}
      accessibilityLabel="Your orders"
      refreshControl={<RefreshControl refreshing={orders.isRefetching} onRefresh={() => void orders.refetch()} />}
      onEndReached={() => orders.hasNextPage && !orders.isFetchingNextPage && void orders.fetchNextPage()}
      ListHeaderComponent={
        <View style={{ padding: space.l, paddingBottom: 0 }}>
          <Heading>Your orders</Heading>
          {orders.isError ? <ErrorNotice error={orders.error} onRetry={() => void orders.refetch()} /> : null}
        </View>
      }
      ListEmptyComponent={orders.isPending ? <Loading label="Loading your orders…" /> : <View style={{ padding: space.l }}><Muted>No orders yet.</Muted></View>}
      renderItem={({ item }) => (
        <Link href={{ pathname: "/orders/[id]", params: { id: item.id } }} asChild>
          <Pressable accessibilityRole="link" accessibilityLabel={`Order ${item.number}, ${statusLabel(item.status)}`} style={styles.row}>
            <View style={{ flex: 1 }}>
              <Text style={styles.number}>Order {item.number}</Text>
              <Muted>{`${statusLabel(item.status)} · ${formatDate(toDate(item.createTime))}`}</Muted>
            </View>
            <Price money={item.total} />
          </Pressable>
        </Link>
      )}
    />
  );
}

export default function Orders() {
  return (
    <RequireSignIn>
      <OrderList />
    </RequireSignIn>
  );
}

const styles = StyleSheet.create({
  row: {
    minHeight: TOUCH + 16,
    flexDirection: "row",
    alignItems: "center",
    paddingHorizontal: space.l,
    paddingVertical: space.s,
    borderBottomWidth: StyleSheet.hairlineWidth,
    borderBottomColor: colors.border,
  },
  number: { fontSize: 16, fontWeight: "600", color: colors.text },
});
