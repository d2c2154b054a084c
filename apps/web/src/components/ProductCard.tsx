import type { Product } from "@emporium/sdk";
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { FromSearch } from "../lib/searchSession";
import { Price } from "./Price";

export function ProductCard({
  product,
  title,
  children,
  searchId,
}: {
  product: Product;
  title?: ReactNode;
  children?: ReactNode;
  /** The search this card is a result of: the product page reports the click and add-to-cart against it. */
  searchId?: string;
}) {
  const image = product.images[0];
  const state: FromSearch | undefined = searchId ? { searchId } : undefined;
  return (
    <li className="card">
      <Link to={`/p/${product.slug}`} state={state} className="card__link">
        <div className="card__media">
          {image ? <img src={image.url} alt={image.alt || product.title} loading="lazy" width={400} height={400} /> : null}
        </div>
        <div className="card__body">
          <span className="card__brand">{product.brand}</span>
          <span className="card__title">{title ?? product.title}</span>
          <span className="card__meta">
            <Price money={product.price} />
            {!product.inStock && <span className="badge badge--muted">Sold out</span>}
          </span>
          {children}
        </div>
      </Link>
    </li>
  );
}

export function ProductGrid({ children, label }: { children: ReactNode; label: string }) {
  return (
    <ul className="grid" aria-label={label}>
      {children}
    </ul>
  );
}
