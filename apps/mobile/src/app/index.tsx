import { useQuery } from "@tanstack/react-query";
import { Link, useRouter } from "expo-router";
import { useState } from "react";
import { FlatList, Pressable, RefreshControl, StyleSheet, Text, View } from "react-native";
import { colors, space, TOUCH } from "../components/theme";
import { ErrorNotice, Heading, Loading, Muted, OfflineBanner, TextField } from "../components/ui";
import { CATALOG_KEY } from "../lib/queryClient";
import { shop } from "../lib/shop";

export default function Home() {
  const router = useRouter();
  const [q, setQ] = useState("");
  const categories = useQuery({
    queryKey: [CATALOG_KEY, "categories"],
    queryFn: async () => (await shop.products.listCategories({})).categories,
  });
  const offline = categories.isError && categories.data !== undefined;
  return (
    <FlatList
      data={categories.data ?? []}
      keyExtractor={(c) => c.slug}
      accessibilityLabel="Categories"
      refreshControl={<RefreshControl refreshing={categories.isRefetching} onRefresh={() => void categories.refetch()} />}
      ListHeaderComponent={
        <View style={styles.header}>
          <Heading>Gear for every kind of weather</Heading>
          <TextField
            label="Search products"
            value={q}
            onChangeText={setQ}
            returnKeyType="search"
            autoCapitalize="none"
            autoCorrect={false}
            onSubmitEditing={() => q.trim() && router.push({ pathname: "/search", params: { q: q.trim() } })}
            placeholder="waterproof jacket"
          />
          {offline ? <OfflineBanner savedAt={categories.dataUpdatedAt} onRetry={() => void categories.refetch()} /> : null}
          {categories.isPending ? <Loading label="Loading categories…" /> : null}
          {categories.isError && !offline ? <ErrorNotice error={categories.error} onRetry={() => void categories.refetch()} /> : null}
          <Heading level={2}>Categories</Heading>
        </View>
      }
      renderItem={({ item }) => (
        <Link href={{ pathname: "/c/[slug]", params: { slug: item.slug } }} asChild>
          <Pressable
            accessibilityRole="link"
            accessibilityLabel={`${item.name}, ${Number(item.productCount)} products`}
            style={styles.category}
          >
            <Text style={styles.categoryName}>{item.name}</Text>
            <Muted>{Number(item.productCount)}</Muted>
          </Pressable>
        </Link>
      )}
    />
  );
}

const styles = StyleSheet.create({
  header: { padding: space.l, paddingBottom: 0 },
  category: {
    minHeight: TOUCH + 8,
    paddingHorizontal: space.l,
    flexDirection: "row",
    alignItems: "center",
    justifyContent: "space-between",
    borderBottomWidth: StyleSheet.hairlineWidth,
    borderBottomColor: colors.border,
  },
  categoryName: { fontSize: 17, color: colors.text },
});
