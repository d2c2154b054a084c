import { findVariant, initialSelection, stockState, type Selection } from "@emporium/sdk";
import { useQuery } from "@tanstack/react-query";
import { Stack, useLocalSearchParams } from "expo-router";
import { useEffect, useState } from "react";
import { Image, ScrollView, StyleSheet, Text, useWindowDimensions, View } from "react-native";
import { colors, space } from "../../components/theme";
import { Button, ErrorNotice, Heading, Loading, Muted, Notice, OfflineBanner, Price, styles as ui } from "../../components/ui";
import { VariantPicker } from "../../components/VariantPicker";
import { useCartChange } from "../../lib/cart";
import { imageUrl } from "../../lib/media";
import { CATALOG_KEY } from "../../lib/queryClient";
import { shop } from "../../lib/shop";

export default function ProductScreen() {
  const { slug = "", searchId = "" } = useLocalSearchParams<{ slug: string; searchId?: string }>();
  const { width } = useWindowDimensions();
  const product = useQuery({
    queryKey: [CATALOG_KEY, "product", slug],
    queryFn: async () => (await shop.products.getProduct({ key: { case: "slug", value: slug }, searchId })).product!,
  });
  const p = product.data;
  const [selection, setSelection] = useState<Selection>({});
  useEffect(() => {
    if (p) setSelection(initialSelection(p.variants));
  }, [p]);
  const add = useCartChange();

  if (product.isPending) return <Loading label="Loading the product…" />;
  if (!p) return <View style={ui.screen}><ErrorNotice error={product.error} onRetry={() => void product.refetch()} /></View>;

  const variant = findVariant(p.variants, selection);
  const stock = variant ? stockState(variant.stock) : undefined;
  const offline = product.isError;
  return (
    <ScrollView contentContainerStyle={ui.screen}>
      <Stack.Screen options={{ title: p.brand }} />
      {offline ? <OfflineBanner savedAt={product.dataUpdatedAt} onRetry={() => void product.refetch()} /> : null}
      <ScrollView horizontal pagingEnabled accessibilityLabel="Pictures" style={{ marginHorizontal: -space.l }}>
        {p.images.map((img) => (
          <Image
            key={img.url}
            source={{ uri: imageUrl(img.url) }}
            alt={img.alt || p.title}
            accessibilityLabel={img.alt || p.title}
            style={{ width, height: Math.min(width, 420), backgroundColor: colors.surface }}
            resizeMode="cover"
          />
        ))}
      </ScrollView>
      <Text style={styles.brand}>{p.brand}</Text>
      <Heading>{p.title}</Heading>
      <Price money={variant?.price ?? p.price} />
      {stock ? (
        <Text accessibilityRole="text" accessibilityLiveRegion="polite" testID="stock" style={[styles.stock, stock.kind === "out" && { color: colors.error }, stock.kind === "low" && { color: colors.warning }]}>
          {stock.label}
        </Text>
      ) : (
        <Muted>Choose the options.</Muted>
      )}
      <View style={{ marginVertical: space.m }}>
        <VariantPicker variants={p.variants} selection={selection} onChange={setSelection} />
      </View>
      <Button
        label={add.isPending ? "Adding…" : "Add to cart"}
        busy={add.isPending}
        disabled={!variant || stock?.kind === "out"}
        onPress={() => variant && add.change({ kind: "add", sku: variant.sku, quantity: 1, searchId })}
      />
      {add.isSuccess ? <Notice tone="ok"><Text>Added to your cart.</Text></Notice> : null}
      {add.isError ? <ErrorNotice error={add.error} onRetry={add.retry} retryLabel="Retry adding to cart" /> : null}
      <Heading level={2}>About this product</Heading>
      <Text style={styles.description}>{p.description}</Text>
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  brand: { color: colors.muted, fontSize: 13, textTransform: "uppercase", marginTop: space.m },
  stock: { marginTop: space.xs, fontSize: 15, color: colors.ok },
  description: { fontSize: 16, lineHeight: 23, color: colors.text },
});
