import { useInfiniteQuery } from "@connectrpc/connect-query";
import { ProductService, type Facet } from "@emporium/sdk";
import { useSearchParams } from "react-router";
import { Highlight } from "../components/Highlight";
import { ProductCard, ProductGrid } from "../components/ProductCard";
import { ErrorMessage, Loading } from "../components/Status";
import { searchSessionId } from "../lib/searchSession";
import { usePageTitle } from "../lib/usePageTitle";

// The search request field each facet narrows.
const FACET_PARAMS: Record<string, { param: string; label: string }> = {
  category: { param: "category", label: "Category" },
  brand: { param: "brand", label: "Brand" },
  price: { param: "price", label: "Price ($)" },
};

function Facets({ facets }: { facets: Facet[] }) {
  const [params, setParams] = useSearchParams();
  const toggle = (param: string, value: string) => {
    const next = new URLSearchParams(params);
    if (next.get(param) === value) next.delete(param);
    else next.set(param, value);
    setParams(next);
  };
  return (
    <aside className="facets" aria-label="Narrow the results">
      {facets.map((f) => {
        const meta = FACET_PARAMS[f.name];
        if (!meta || f.values.length === 0) return null;
        const selected = params.get(meta.param);
        return (
          <fieldset key={f.name} className="facet">
            <legend>{meta.label}</legend>
            {f.values.map((v) => (
              <label key={v.value} className="checkbox">
                <input
                  type="checkbox"
                  checked={selected === v.value}
                  onChange={() => toggle(meta.param, v.value)}
                />
                {v.label} <span className="muted">({Number(v.count)})</span>
              </label>
            ))}
          </fieldset>
        );
      })}
    </aside>
  );
}

export default function Search() {
  const [params] = useSearchParams();
  const query = (params.get("q") ?? "").trim();
  usePageTitle(query ? `“${query}”` : "Search");
  const results = useInfiniteQuery(
    ProductService.method.searchProducts,
    {
      query,
      pageSize: 24,
      category: params.get("category") ?? "",
      brand: params.get("brand") ?? "",
      priceBand: params.get("price") ?? "",
      sessionId: searchSessionId(),
      pageToken: "",
    },
    { pageParamKey: "pageToken", getNextPageParam: (last) => last.nextPageToken || undefined, enabled: query !== "" },
  );

  if (!query) {
    return (
      <div className="page">
        <h1>Search</h1>
        <p>Type what you are looking for in the search box above.</p>
      </div>
    );
  }
  const first = results.data?.pages[0];
  const hits = results.data?.pages.flatMap((p) => p.hits) ?? [];
  // Every page of one search carries the same id.
  const searchId = first?.searchId ?? "";
  return (
    <div className="page">
      <h1>Results for “{query}”</h1>
      {results.isPending ? (
        <Loading label="Searching…" />
      ) : results.error && hits.length === 0 ? (
        <ErrorMessage error={results.error} onRetry={() => void results.refetch()} />
      ) : (
        <div className="search-layout">
          {first && <Facets facets={first.facets} />}
          <div>
            <p className="muted" role="status">
              {Number(first?.totalSize ?? 0n)} {first?.totalSize === 1n ? "product" : "products"} found
            </p>
            {hits.length === 0 ? (
              <p>Nothing matched. Try fewer words, or another spelling.</p>
            ) : (
              <ProductGrid label="Search results">
                {hits.map((hit) =>
                  hit.product ? (
                    <ProductCard
                      key={hit.product.id}
                      product={hit.product}
                      searchId={searchId}
                      title={hit.highlights.title?.fragments[0] ? <Highlight fragment={hit.highlights.title.fragments[0]} /> : undefined}
                    >
                      {hit.highlights.description?.fragments[0] && (
                        <span className="card__snippet">
                          <Highlight fragment={hit.highlights.description.fragments[0]} />
                        </span>
                      )}
                    </ProductCard>
                  ) : null,
                )}
              </ProductGrid>
            )}
            {results.hasNextPage && (
              <div className="more">
                <button
                  type="button"
                  className="button button--secondary"
                  disabled={results.isFetchingNextPage}
                  onClick={() => void results.fetchNextPage()}
                >
                  {results.isFetchingNextPage ? "Loading…" : "Show more results"}
                </button>
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
