import { Link } from "expo-router";
import { Pressable, StyleSheet, Text } from "react-native";
import { useCart } from "../lib/cart";
import { colors, space, TOUCH } from "./theme";

/** The header's cart link, with the number of items in its label. */
export function CartButton() {
  const { data } = useCart();
  const count = (data?.lines ?? []).reduce((n, l) => n + Number(l.quantity), 0);
  const label = `Cart, ${count} ${count === 1 ? "item" : "items"}`;
  return (
    <Link href="/cart" asChild>
      <Pressable accessibilityRole="link" accessibilityLabel={label} style={styles.button}>
        <Text style={styles.text}>Cart ({count})</Text>
      </Pressable>
    </Link>
  );
}

export function HeaderLink({ href, label }: { href: "/account" | "/search"; label: string }) {
  return (
    <Link href={href} asChild>
      <Pressable accessibilityRole="link" accessibilityLabel={label} style={styles.button}>
        <Text style={styles.text}>{label}</Text>
      </Pressable>
    </Link>
  );
}

const styles = StyleSheet.create({
  button: { minHeight: TOUCH, minWidth: TOUCH, justifyContent: "center", paddingHorizontal: space.s },
  text: { color: colors.primary, fontSize: 16, fontWeight: "600" },
});
