import { useInfiniteQuery, useQuery } from "@connectrpc/connect-query";
import { ProductService, ProductSort } from "@emporium/sdk";
import type { FormEvent } from "react";
import { useParams, useSearchParams } from "react-router";
import { ProductCard, ProductGrid } from "../components/ProductCard";
import { ErrorMessage, Loading } from "../components/Status";
import { useOnVisible } from "../lib/useOnVisible";
import { usePageTitle } from "../lib/usePageTitle";

const SORTS: [string, ProductSort, string][] = [
  ["newest", ProductSort.NEWEST, "Newest"],
  ["price-asc", ProductSort.PRICE_ASC, "Price: low to high"],
  ["price-desc", ProductSort.PRICE_DESC, "Price: high to low"],
  ["title", ProductSort.TITLE, "Name"],
];

/** Whole currency units typed by the shopper → minor units, or undefined. */
function toMinor(v: string | null): bigint | undefined {
  if (!v || !/^\d{1,7}$/.test(v)) return undefined;
  return BigInt(v) * 100n;
}

export default function Category() {
  const { slug = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const sortKey = params.get("sort") ?? "newest";
  const sort = SORTS.find(([k]) => k === sortKey)?.[1] ?? ProductSort.NEWEST;
  const inStockOnly = params.get("stock") === "1";
  const minPrice = toMinor(params.get("min"));
  const maxPrice = toMinor(params.get("max"));

  const categories = useQuery(ProductService.method.listCategories, {});
  const category = categories.data?.categories.find((c) => c.slug === slug);
  usePageTitle(category?.name ?? "Products");

  const products = useInfiniteQuery(
    ProductService.method.listProducts,
    { category: slug, pageSize: 24, sort, inStockOnly, minPrice, maxPrice, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (last) => last.nextPageToken || undefined },
  );
  const sentinel = useOnVisible<HTMLDivElement>(() => {
    if (products.hasNextPage && !products.isFetchingNextPage) void products.fetchNextPage();
  }, products.hasNextPage);

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };
  // Enter in a price box applies both prices.
  const applyPrices = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    update({ min: String(form.get("min") ?? "").trim(), max: String(form.get("max") ?? "").trim() });
  };
  const items = products.data?.pages.flatMap((p) => p.products) ?? [];

  return (
    <div className="page">
      <h1>{category?.name ?? slug}</h1>
      {category?.description && <p className="lead">{category.description}</p>}
      <form className="filters" aria-label="Filter and sort" onSubmit={applyPrices}>
        <div className="field field--inline">
          <label htmlFor="sort">Sort by</label>
          <select id="sort" value={sortKey} onChange={(e) => update({ sort: e.target.value === "newest" ? "" : e.target.value })}>
            {SORTS.map(([k, , label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field--inline">
          <label htmlFor="min">Min price ($)</label>
          <input id="min" name="min" inputMode="numeric" pattern="\d*" size={5} defaultValue={params.get("min") ?? ""}
            onBlur={(e) => update({ min: e.target.value.trim() })} />
        </div>
        <div className="field field--inline">
          <label htmlFor="max">Max price ($)</label>
          <input id="max" name="max" inputMode="numeric" pattern="\d*" size={5} defaultValue={params.get("max") ?? ""}
            onBlur={(e) => update({ max: e.target.value.trim() })} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={inStockOnly} onChange={(e) => update({ stock: e.target.checked ? "1" : "" })} />
          In stock only
        </label>
        <button type="submit" className="button button--secondary">
          Apply prices
        </button>
      </form>
      {products.isPending ? (
        <Loading label="Loading products…" />
      ) : products.error && items.length === 0 ? (
        <ErrorMessage error={products.error} onRetry={() => void products.refetch()} />
      ) : items.length === 0 ? (
        <p>No products match these filters.</p>
      ) : (
        <>
          <ProductGrid label={`${category?.name ?? "Products"}`}>
            {items.map((p) => (
              <ProductCard key={p.id} product={p} />
            ))}
          </ProductGrid>
          <div ref={sentinel} className="more">
            {products.isFetchingNextPage ? (
              <Loading label="Loading more products…" />
            ) : products.hasNextPage ? (
              <button type="button" className="button button--secondary" onClick={() => void products.fetchNextPage()}>
                Show more
              </button>
            ) : (
              <p className="muted">That's everything in {category?.name ?? "this category"}.</p>
            )}
          </div>
        </>
      )}
    </div>
  );
}
