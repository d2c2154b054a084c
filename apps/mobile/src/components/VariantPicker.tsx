import { isInStock, optionNames, optionValues, type Selection, type Variant } from "@emporium/sdk";
import { Pressable, StyleSheet, Text, View } from "react-native";
import { colors, space, TOUCH } from "./theme";

/**
 * One row of choices per option (colour, size). A choice that gives no
 * variant in stock with the other choices kept is shown struck through and
 * announced as sold out, but stays selectable so the shopper sees why.
 */
export function VariantPicker({
  variants,
  selection,
  onChange,
}: {
  variants: Variant[];
  selection: Selection;
  onChange: (next: Selection) => void;
}) {
  return (
    <View style={{ gap: space.m }}>
      {optionNames(variants).map((name) => (
        <View key={name} accessibilityRole="radiogroup" accessibilityLabel={capitalize(name)}>
          <Text style={styles.legend}>
            {capitalize(name)}: <Text style={styles.chosen}>{selection[name] ?? "choose"}</Text>
          </Text>
          <View style={styles.choices}>
            {optionValues(variants, name).map((value) => {
              const selected = selection[name] === value;
              const inStock = isInStock(variants, selection, name, value);
              return (
                <Pressable
                  key={value}
                  accessibilityRole="radio"
                  accessibilityState={{ checked: selected }}
                  accessibilityLabel={inStock ? value : `${value}, sold out`}
                  onPress={() => onChange({ ...selection, [name]: value })}
                  style={[styles.choice, selected && styles.selected]}
                >
                  <Text style={[styles.choiceText, selected && styles.selectedText, !inStock && styles.out]}>{value}</Text>
                </Pressable>
              );
            })}
          </View>
        </View>
      ))}
    </View>
  );
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

const styles = StyleSheet.create({
  legend: { fontSize: 15, fontWeight: "600", color: colors.text, marginBottom: space.xs },
  chosen: { fontWeight: "400" },
  choices: { flexDirection: "row", flexWrap: "wrap", gap: space.s },
  choice: {
    minHeight: TOUCH,
    minWidth: TOUCH,
    paddingHorizontal: space.m,
    borderRadius: 8,
    borderWidth: 1,
    borderColor: colors.border,
    alignItems: "center",
    justifyContent: "center",
  },
  selected: { borderColor: colors.primary, borderWidth: 2, backgroundColor: colors.infoSurface },
  choiceText: { fontSize: 15, color: colors.text },
  selectedText: { fontWeight: "700" },
  out: { color: colors.muted, textDecorationLine: "line-through" },
});
