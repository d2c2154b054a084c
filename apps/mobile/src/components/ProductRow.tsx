import type { Product } from "@emporium/sdk";
import { Link } from "expo-router";
import type { ReactNode } from "react";
import { Image, Pressable, StyleSheet, Text, View } from "react-native";
import { imageUrl } from "../lib/media";
import { colors, space } from "./theme";
import { Price } from "./ui";

/** One product in a list: picture, brand, title (or highlighted title), price. */
export function ProductRow({ product, title, searchId }: { product: Product; title?: ReactNode; searchId?: string }) {
  const image = product.images[0];
  return (
    <Link
      href={{ pathname: "/p/[slug]", params: searchId ? { slug: product.slug, searchId } : { slug: product.slug } }}
      asChild
    >
      <Pressable
        accessibilityRole="link"
        accessibilityLabel={`${product.title}, ${product.brand}`}
        style={styles.row}
      >
        {image ? (
          <Image source={{ uri: imageUrl(image.url) }} style={styles.image} accessibilityIgnoresInvertColors alt={image.alt || product.title} />
        ) : (
          <View style={styles.image} />
        )}
        <View style={styles.body}>
          <Text style={styles.brand}>{product.brand}</Text>
          <Text style={styles.title}>{title ?? product.title}</Text>
          <View style={styles.meta}>
            <Price money={product.price} />
            {!product.inStock ? <Text style={styles.soldOut}>Sold out</Text> : null}
          </View>
        </View>
      </Pressable>
    </Link>
  );
}

const styles = StyleSheet.create({
  row: {
    flexDirection: "row",
    gap: space.m,
    paddingVertical: space.m,
    paddingHorizontal: space.l,
    borderBottomWidth: StyleSheet.hairlineWidth,
    borderBottomColor: colors.border,
    minHeight: 96,
  },
  image: { width: 80, height: 80, borderRadius: 6, backgroundColor: colors.surface },
  body: { flex: 1, gap: 2 },
  brand: { color: colors.muted, fontSize: 13, textTransform: "uppercase" },
  title: { color: colors.text, fontSize: 16, fontWeight: "500" },
  meta: { flexDirection: "row", gap: space.s, alignItems: "center", marginTop: space.xs },
  soldOut: { color: colors.error, fontSize: 14 },
});
