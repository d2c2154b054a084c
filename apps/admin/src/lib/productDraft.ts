// A product as its form edits it (text inputs), and the conversions to and
// from the API's messages. Prices are typed as decimals and become integer
// minor units without a float in between.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ProductStatus, type ImageSchema, type Product, type VariantSchema } from "@emporium/sdk";
import { minorToText, parseMinor } from "./format";

export interface VariantDraft {
  sku: string;
  title: string;
  /** "size=M, colour=Sand" */
  options: string;
  /** "19.99" */
  price: string;
  weightGrams: number | null;
}

export interface ProductDraft {
  slug: string;
  title: string;
  description: string;
  brand: string;
  category: string;
  status: ProductStatus;
  currency: string;
  variants: VariantDraft[];
  images: { url: string; alt: string }[];
}

export function emptyVariant(): VariantDraft {
  return { sku: "", title: "", options: "", price: "", weightGrams: null };
}

export function emptyDraft(currency = "USD"): ProductDraft {
  return {
    slug: "", title: "", description: "", brand: "", category: "", status: ProductStatus.ACTIVE, currency,
    variants: [emptyVariant()], images: [],
  };
}

export function draftFromProduct(p: Product): ProductDraft {
  return {
    slug: p.slug,
    title: p.title,
    description: p.description,
    brand: p.brand,
    category: p.category,
    status: p.status,
    currency: p.variants[0]?.price?.currency ?? p.price?.currency ?? "USD",
    variants: p.variants.map((v) => ({
      sku: v.sku,
      title: v.title,
      options: Object.entries(v.options).map(([k, val]) => `${k}=${val}`).join(", "),
      price: v.price ? minorToText(v.price.amount) : "",
      weightGrams: Number(v.weightGrams),
    })),
    images: p.images.map((i) => ({ url: i.url, alt: i.alt })),
  };
}

/** Problems the form can see before asking the server, by field path. */
export function checkDraft(d: ProductDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (!d.title.trim()) out["title"] = "is required";
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(d.slug)) out["slug"] = "use lower-case letters, digits and single dashes";
  if (!d.category) out["category"] = "is required";
  if (d.variants.length === 0) out["variants"] = "a product needs at least one variant";
  const skus = new Set<string>();
  d.variants.forEach((v, i) => {
    if (!v.sku.trim()) out[`variants[${i}].sku`] = "is required";
    else if (skus.has(v.sku.trim())) out[`variants[${i}].sku`] = "is used by another variant";
    skus.add(v.sku.trim());
    if (parseMinor(v.price) === undefined) out[`variants[${i}].price`] = "must be a price like 19.99";
    try {
      parseOptions(v.options);
    } catch (err) {
      out[`variants[${i}].options`] = (err as Error).message;
    }
  });
  return out;
}

/** "size=M, colour=Sand" → { size: "M", colour: "Sand" }. */
export function parseOptions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [k, ...rest] = part.split("=");
    const key = k?.trim() ?? "";
    const value = rest.join("=").trim();
    if (!key || !value) throw new Error(`write options as name=value, separated by commas ("${part}")`);
    out[key] = value;
  }
  return out;
}

export function variantsOf(d: ProductDraft): MessageInitShape<typeof VariantSchema>[] {
  return d.variants.map((v) => ({
    sku: v.sku.trim(),
    title: v.title.trim(),
    options: parseOptions(v.options),
    price: { amount: parseMinor(v.price) ?? 0n, currency: d.currency },
    weightGrams: BigInt(v.weightGrams ?? 0),
  }));
}

export function imagesOf(d: ProductDraft): MessageInitShape<typeof ImageSchema>[] {
  return d.images.filter((i) => i.url.trim()).map((i) => ({ url: i.url.trim(), alt: i.alt.trim() }));
}
