import { useQuery } from "@connectrpc/connect-query";
import { ProductService, ProductSort } from "@emporium/sdk";
import { Link } from "react-router";
import { ProductCard, ProductGrid } from "../components/ProductCard";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../lib/usePageTitle";

function FeaturedCategories() {
  const { data, error, isPending, refetch } = useQuery(ProductService.method.listCategories, {});
  if (isPending) return <Loading label="Loading categories…" />;
  if (error) return <ErrorMessage error={error} onRetry={() => void refetch()} />;
  return (
    <ul className="categories" aria-label="Categories">
      {data.categories.map((c) => (
        <li key={c.slug}>
          <Link to={`/c/${c.slug}`} className="category">
            <span className="category__name">{c.name}</span>
            <span className="category__desc">{c.description}</span>
            <span className="category__count">{Number(c.productCount)} products</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function NewArrivals() {
  const { data, error, isPending, refetch } = useQuery(ProductService.method.listProducts, {
    pageSize: 8,
    sort: ProductSort.NEWEST,
    inStockOnly: true,
  });
  if (isPending) return <Loading label="Loading new arrivals…" />;
  if (error) return <ErrorMessage error={error} onRetry={() => void refetch()} />;
  return (
    <ProductGrid label="New arrivals">
      {data.products.map((p) => (
        <ProductCard key={p.id} product={p} />
      ))}
    </ProductGrid>
  );
}

export default function Home() {
  usePageTitle(undefined);
  return (
    <div className="page">
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Gear for every kind of weather</h1>
        <p>Jackets, boots, bags and watches, made to be worn for years. Free returns, always.</p>
      </section>
      <section aria-labelledby="cats-title">
        <h2 id="cats-title">Shop by category</h2>
        <FeaturedCategories />
      </section>
      <section aria-labelledby="new-title">
        <h2 id="new-title">New arrivals</h2>
        <NewArrivals />
      </section>
    </div>
  );
}
