import { useQuery } from "@connectrpc/connect-query";
import { Code, ProductService, type Product as ProductT } from "@emporium/sdk";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useParams } from "react-router";
import { Price } from "../components/Price";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { VariantPicker } from "../components/VariantPicker";
import { useCartChange } from "../lib/cart";
import { isCode } from "../lib/errors";
import { searchIdFrom } from "../lib/searchSession";
import { usePageTitle } from "../lib/usePageTitle";
import { findVariant, initialSelection, stockState, type Selection } from "../lib/variants";

function BuyBox({ product, searchId }: { product: ProductT; searchId: string }) {
  const [selection, setSelection] = useState<Selection>(() => initialSelection(product.variants));
  const [qty, setQty] = useState("1"); // as typed; clamped when used
  const change = useCartChange();
  const variant = findVariant(product.variants, selection);
  const stock = stockState(variant?.stock ?? 0n);
  const max = variant ? Math.max(1, Math.min(10, Number(variant.stock))) : 1;
  const quantity = Math.min(max, Math.max(1, Math.floor(Number(qty)) || 1));

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!variant || stock.kind === "out") return;
    change.mutate({ kind: "add", sku: variant.sku, quantity, searchId });
  };
  return (
    <form className="buy" onSubmit={add} aria-label="Add to cart">
      <p className="buy__price">
        <Price money={variant?.price ?? product.price} />
      </p>
      {product.variants.length > 1 && (
        <VariantPicker
          variants={product.variants}
          selection={selection}
          onChange={(s) => {
            setSelection(s);
            change.reset();
          }}
        />
      )}
      <p className={`stock stock--${stock.kind}`} role="status" aria-live="polite">
        {variant ? stock.label : "This combination is not sold"}
      </p>
      <div className="buy__row">
        <div className="field field--qty">
          <label htmlFor="qty">Quantity</label>
          <input
            id="qty"
            type="number"
            min={1}
            max={max}
            value={qty}
            onChange={(e) => setQty(e.target.value)}
            onBlur={() => setQty(String(quantity))}
          />
        </div>
        <button type="submit" className="button button--primary" disabled={!variant || stock.kind === "out" || change.isPending}>
          {stock.kind === "out" ? "Sold out" : change.isPending ? "Adding…" : "Add to cart"}
        </button>
      </div>
      {change.isSuccess && (
        <Notice tone="success">
          Added to your cart. <Link to="/cart">View cart</Link>
        </Notice>
      )}
      {change.error && <ErrorMessage error={change.error} />}
    </form>
  );
}

export default function Product() {
  const { slug = "" } = useParams();
  // Opened from a search result: the visit and an add-to-cart count towards that search.
  const searchId = searchIdFrom(useLocation().state);
  const { data, error, isPending, refetch } = useQuery(ProductService.method.getProduct, { key: { case: "slug", value: slug }, searchId });
  const product = data?.product;
  usePageTitle(product?.title ?? (error ? "Product not found" : undefined));
  if (isPending) return <Loading label="Loading product…" />;
  if (error || !product) {
    return (
      <div className="page narrow">
        <h1>{isCode(error, Code.NotFound) ? "Product not found" : "This product didn't load"}</h1>
        {isCode(error, Code.NotFound) ? <p>It may have been removed from the shop.</p> : <ErrorMessage error={error} onRetry={() => void refetch()} />}
        <Link to="/">Back to the shop</Link>
      </div>
    );
  }
  const image = product.images[0];
  const attributes = Object.entries(product.attributes);
  return (
    <div className="page product">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">Home</Link> › <Link to={`/c/${product.category}`}>{product.category}</Link>
      </nav>
      <div className="product__layout">
        <div className="product__media">{image && <img src={image.url} alt={image.alt || product.title} width={800} height={800} />}</div>
        <div className="product__info">
          <p className="card__brand">{product.brand}</p>
          <h1>{product.title}</h1>
          <BuyBox key={product.id} product={product} searchId={searchId} />
          <p>{product.description}</p>
          {attributes.length > 0 && (
            <dl className="attributes">
              {attributes.map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </div>
    </div>
  );
}
