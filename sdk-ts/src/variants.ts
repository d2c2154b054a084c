// Choosing among a product's variants (size, colour): the options, the
// variant a selection names, and how a shopper sees a stock level.
import type { Variant } from "./gen/emporium/product/v1/product_pb.js";

/** The variants' option names in the order they first appear, e.g. ["colour", "size"]. */
export function optionNames(variants: Variant[]): string[] {
  const names: string[] = [];
  for (const v of variants) for (const k of Object.keys(v.options)) if (!names.includes(k)) names.push(k);
  return names;
}

/** The distinct values of one option, in catalog order. */
export function optionValues(variants: Variant[], name: string): string[] {
  const values: string[] = [];
  for (const v of variants) {
    const value = v.options[name];
    if (value !== undefined && !values.includes(value)) values.push(value);
  }
  return values;
}

export type Selection = Record<string, string>;

/** The variant whose options are exactly the selection, if every option is chosen. */
export function findVariant(variants: Variant[], selection: Selection): Variant | undefined {
  return variants.find((v) => Object.entries(v.options).every(([k, value]) => selection[k] === value));
}

/** A starting selection: the first variant in stock (or the first at all). */
export function initialSelection(variants: Variant[]): Selection {
  const v = variants.find((x) => x.stock > 0n) ?? variants[0];
  return v ? { ...v.options } : {};
}

/** Whether choosing `value` for `name`, keeping the other choices, gives a variant in stock. */
export function isInStock(variants: Variant[], selection: Selection, name: string, value: string): boolean {
  const v = findVariant(variants, { ...selection, [name]: value });
  return v !== undefined && v.stock > 0n;
}

export type StockState = { kind: "in" | "low" | "out"; label: string };

/** How a shopper sees a stock level. */
export function stockState(stock: bigint): StockState {
  if (stock <= 0n) return { kind: "out", label: "Sold out" };
  if (stock <= 5n) return { kind: "low", label: `Only ${stock} left` };
  return { kind: "in", label: "In stock" };
}
