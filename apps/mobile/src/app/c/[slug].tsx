import { ProductSort } from "@emporium/sdk";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Stack, useLocalSearchParams } from "expo-router";
import { FlatList, RefreshControl, View } from "react-native";
import { ProductRow } from "../../components/ProductRow";
import { space } from "../../components/theme";
import { ErrorNotice, Heading, Loading, Muted, OfflineBanner } from "../../components/ui";
import { CATALOG_KEY } from "../../lib/queryClient";
import { shop } from "../../lib/shop";

const PAGE = 20;

export default function CategoryScreen() {
  const { slug = "" } = useLocalSearchParams<{ slug: string }>();
  const categories = useQuery({
    queryKey: [CATALOG_KEY, "categories"],
    queryFn: async () => (await shop.products.listCategories({})).categories,
  });
  const name = categories.data?.find((c) => c.slug === slug)?.name ?? slug;
  const products = useInfiniteQuery({
    queryKey: [CATALOG_KEY, "category", slug],
    initialPageParam: "",
    queryFn: async ({ pageParam }) =>
      await shop.products.listProducts({ category: slug, pageSize: PAGE, pageToken: pageParam, sort: ProductSort.NEWEST }),
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const items = products.data?.pages.flatMap((p) => p.products) ?? [];
  const offline = products.isError && products.data !== undefined;
  return (
    <>
      <Stack.Screen options={{ title: name }} />
      <FlatList
        data={items}
        keyExtractor={(p) => p.id}
        accessibilityLabel={name}
        renderItem={({ item }) => <ProductRow product={item} />}
        onEndReachedThreshold={0.5}
        onEndReached={() => {
          if (products.hasNextPage && !products.isFetchingNextPage && !products.isError) void products.fetchNextPage();
        }}
        refreshControl={<RefreshControl refreshing={products.isRefetching && !products.isFetchingNextPage} onRefresh={() => void products.refetch()} />}
        ListHeaderComponent={
          <View style={{ padding: space.l, paddingBottom: 0 }}>
            <Heading>{name}</Heading>
            {offline ? <OfflineBanner savedAt={products.dataUpdatedAt} onRetry={() => void products.refetch()} /> : null}
            {products.isError && !offline ? <ErrorNotice error={products.error} onRetry={() => void products.refetch()} /> : null}
          </View>
        }
        ListEmptyComponent={products.isPending ? <Loading label="Loading products…" /> : products.isError ? null : <View style={{ padding: space.l }}><Muted>Nothing here yet.</Muted></View>}
        ListFooterComponent={products.isFetchingNextPage ? <Loading label="Loading more…" /> : null}
      />
    </>
  );
}
