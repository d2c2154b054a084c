import type { Facet } from "@emporium/sdk";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useLocalSearchParams, useRouter } from "expo-router";
import { useEffect, useRef, useState } from "react";
import { FlatList, Modal, Pressable, RefreshControl, ScrollView, StyleSheet, Text, View } from "react-native";
import { HighlightText } from "../components/HighlightText";
import { ProductRow } from "../components/ProductRow";
import { colors, space, TOUCH } from "../components/theme";
import { Button, ErrorNotice, Heading, Loading, Muted, OfflineBanner, TextField } from "../components/ui";
import { newKey } from "../lib/ids";
import { CATALOG_KEY } from "../lib/queryClient";
import { shop } from "../lib/shop";

// The search request field each facet narrows.
const FACETS: Record<string, { param: "category" | "brand" | "price"; label: string }> = {
  category: { param: "category", label: "Category" },
  brand: { param: "brand", label: "Brand" },
  price: { param: "price", label: "Price ($)" },
};

type Params = { q?: string; category?: string; brand?: string; price?: string };

function FacetSheet({
  facets,
  params,
  visible,
  onClose,
  onToggle,
}: {
  facets: Facet[];
  params: Params;
  visible: boolean;
  onClose: () => void;
  onToggle: (param: "category" | "brand" | "price", value: string) => void;
}) {
  return (
    <Modal visible={visible} animationType="slide" transparent onRequestClose={onClose}>
      <View style={styles.backdrop}>
        <View style={styles.sheet} accessibilityViewIsModal accessibilityLabel="Filters">
          <Heading>Filters</Heading>
          <ScrollView>
            {facets.map((f) => {
              const meta = FACETS[f.name];
              if (!meta || f.values.length === 0) return null;
              return (
                <View key={f.name} accessibilityRole="radiogroup" accessibilityLabel={meta.label}>
                  <Heading level={2}>{meta.label}</Heading>
                  {f.values.map((v) => {
                    const checked = params[meta.param] === v.value;
                    return (
                      <Pressable
                        key={v.value}
                        accessibilityRole="checkbox"
                        accessibilityState={{ checked }}
                        accessibilityLabel={`${v.label}, ${Number(v.count)} results`}
                        onPress={() => onToggle(meta.param, v.value)}
                        style={styles.facetValue}
                      >
                        <Text style={[styles.box, checked && styles.boxOn]}>{checked ? "✓" : " "}</Text>
                        <Text style={styles.facetLabel}>{v.label}</Text>
                        <Muted>{Number(v.count)}</Muted>
                      </Pressable>
                    );
                  })}
                </View>
              );
            })}
          </ScrollView>
          <Button label="Show results" onPress={onClose} />
        </View>
      </View>
    </Modal>
  );
}

export default function SearchScreen() {
  const params = useLocalSearchParams<Params>();
  const router = useRouter();
  const query = (params.q ?? "").trim();
  const [text, setText] = useState(query);
  const [sheet, setSheet] = useState(false);
  const sessionId = useRef(newKey()).current;
  useEffect(() => setText(query), [query]);

  const filters = { category: params.category ?? "", brand: params.brand ?? "", priceBand: params.price ?? "" };
  const results = useInfiniteQuery({
    queryKey: [CATALOG_KEY, "search", query, filters],
    enabled: query !== "",
    initialPageParam: "",
    queryFn: async ({ pageParam }) =>
      await shop.products.searchProducts({ query, pageSize: 20, pageToken: pageParam, ...filters, sessionId }),
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const first = results.data?.pages[0];
  const hits = results.data?.pages.flatMap((p) => p.hits.map((h) => ({ hit: h, searchId: p.searchId }))) ?? [];
  const offline = results.isError && results.data !== undefined;
  const active = [params.category, params.brand, params.price].filter(Boolean).length;

  const toggle = (param: "category" | "brand" | "price", value: string) =>
    router.setParams({ [param]: params[param] === value ? "" : value });

  return (
    <>
      <FlatList
        data={hits}
        keyExtractor={({ hit }) => hit.product?.id ?? ""}
        accessibilityLabel="Search results"
        renderItem={({ item: { hit, searchId } }) => {
          const fragment = hit.highlights["title"]?.fragments[0];
          return hit.product ? (
            <ProductRow product={hit.product} searchId={searchId} title={fragment ? <HighlightText fragment={fragment} /> : undefined} />
          ) : null;
        }}
        onEndReachedThreshold={0.5}
        onEndReached={() => {
          if (results.hasNextPage && !results.isFetchingNextPage && !results.isError) void results.fetchNextPage();
        }}
        refreshControl={<RefreshControl refreshing={results.isRefetching && !results.isFetchingNextPage} onRefresh={() => void results.refetch()} />}
        ListHeaderComponent={
          <View style={{ padding: space.l, paddingBottom: 0 }}>
            <TextField
              label="Search products"
              value={text}
              onChangeText={setText}
              autoCapitalize="none"
              autoCorrect={false}
              returnKeyType="search"
              onSubmitEditing={() => router.setParams({ q: text.trim(), category: "", brand: "", price: "" })}
            />
            {query ? <Heading>{`Results for “${query}”`}</Heading> : <Muted>Search by name, brand or category; typos are fine.</Muted>}
            {first ? (
              <View style={styles.bar}>
                <Muted>{`${Number(first.totalSize)} ${first.totalSize === 1n ? "match" : "matches"}`}</Muted>
                <Button kind="secondary" label={active ? `Filters (${active})` : "Filters"} onPress={() => setSheet(true)} />
              </View>
            ) : null}
            {offline ? <OfflineBanner savedAt={results.dataUpdatedAt} onRetry={() => void results.refetch()} /> : null}
            {results.isError && !offline ? <ErrorNotice error={results.error} onRetry={() => void results.refetch()} /> : null}
          </View>
        }
        ListEmptyComponent={
          query && results.isPending ? <Loading label="Searching…" /> : first && hits.length === 0 ? <View style={{ padding: space.l }}><Muted>No matches. Try other words.</Muted></View> : null
        }
        ListFooterComponent={results.isFetchingNextPage ? <Loading label="Loading more…" /> : null}
      />
      <FacetSheet facets={first?.facets ?? []} params={params} visible={sheet} onClose={() => setSheet(false)} onToggle={toggle} />
    </>
  );
}

const styles = StyleSheet.create({
  bar: { flexDirection: "row", justifyContent: "space-between", alignItems: "center", marginBottom: space.s },
  backdrop: { flex: 1, justifyContent: "flex-end", backgroundColor: "rgba(0,0,0,0.35)" },
  sheet: { maxHeight: "85%", backgroundColor: colors.background, borderTopLeftRadius: 16, borderTopRightRadius: 16, padding: space.l, gap: space.s },
  facetValue: { minHeight: TOUCH, flexDirection: "row", alignItems: "center", gap: space.m },
  box: { width: 24, height: 24, borderWidth: 1, borderColor: colors.border, borderRadius: 4, textAlign: "center", color: colors.onPrimary },
  boxOn: { backgroundColor: colors.primary, borderColor: colors.primary },
  facetLabel: { flex: 1, fontSize: 16, color: colors.text },
});
