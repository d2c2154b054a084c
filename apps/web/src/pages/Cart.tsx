import type { CartLine } from "@emporium/sdk";
import { Link } from "react-router";
import { Price } from "../components/Price";
import { ErrorMessage, Loading } from "../components/Status";
import { useAuth } from "../lib/auth";
import { useCart, useCartChange } from "../lib/cart";
import { usePageTitle } from "../lib/usePageTitle";

function Line({ line }: { line: CartLine }) {
  const change = useCartChange();
  const qty = Number(line.quantity);
  const options = Array.from({ length: Math.max(10, qty) }, (_, i) => i + 1);
  return (
    <li className="line">
      {line.imageUrl ? <img src={line.imageUrl} alt="" width={96} height={96} className="line__img" /> : <span className="line__img" />}
      <div className="line__info">
        <Link to={`/p/${line.productSlug}`} className="line__title">
          {line.title}
        </Link>
        <span className="muted">{line.variantTitle}</span>
        <span className="muted">
          <Price money={line.unitPrice} /> each
        </span>
        {line.issue && (
          <span className="line__issue" role="alert">
            {line.issue}
          </span>
        )}
      </div>
      <div className="line__actions">
        <label htmlFor={`qty-${line.sku}`} className="visually-hidden">
          Quantity of {line.title} ({line.variantTitle})
        </label>
        <select
          id={`qty-${line.sku}`}
          value={qty}
          disabled={change.isPending}
          onChange={(e) => change.mutate({ kind: "set", sku: line.sku, quantity: Number(e.target.value) })}
        >
          {options.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="link-button"
          aria-label={`Remove ${line.title} (${line.variantTitle})`}
          disabled={change.isPending}
          onClick={() => change.mutate({ kind: "remove", sku: line.sku })}
        >
          Remove
        </button>
        <Price money={line.lineTotal} className="price line__total" />
      </div>
      {change.error && <ErrorMessage error={change.error} />}
    </li>
  );
}

export default function Cart() {
  usePageTitle("Your cart");
  const { state } = useAuth();
  const { data: cart, error, isPending, refetch } = useCart();
  if (isPending) return <Loading label="Loading your cart…" />;
  if (error) {
    return (
      <div className="page narrow">
        <h1>Your cart</h1>
        <ErrorMessage error={error} onRetry={() => void refetch()} />
      </div>
    );
  }
  if (!cart || cart.lines.length === 0) {
    return (
      <div className="page narrow">
        <h1>Your cart</h1>
        <p>Your cart is empty.</p>
        <Link to="/" className="button button--primary">
          Start shopping
        </Link>
      </div>
    );
  }
  const signedIn = state.status === "signedIn";
  return (
    <div className="page">
      <h1>Your cart</h1>
      <div className="cart-layout">
        <ul className="lines" aria-label="Items in your cart">
          {cart.lines.map((l) => (
            <Line key={l.sku} line={l} />
          ))}
        </ul>
        <aside className="summary" aria-label="Order summary">
          <h2>Summary</h2>
          <dl className="totals">
            <div>
              <dt>Items ({Number(cart.itemCount)})</dt>
              <dd>
                <Price money={cart.subtotal} />
              </dd>
            </div>
            <div>
              <dt>Shipping and tax</dt>
              <dd className="muted">at checkout</dd>
            </div>
          </dl>
          {!cart.ready && <p className="notice notice--error">Some items can't be bought as they are: change or remove them first.</p>}
          {signedIn ? (
            <Link to="/checkout" className={`button button--primary button--block${cart.ready ? "" : " is-disabled"}`}
              aria-disabled={!cart.ready} onClick={(e) => !cart.ready && e.preventDefault()}>
              Check out
            </Link>
          ) : (
            <>
              <Link to="/sign-in?next=%2Fcheckout" className="button button--primary button--block">
                Sign in to check out
              </Link>
              <p className="muted small">
                New here? <Link to="/register?next=%2Fcheckout">Create an account</Link>; your cart comes with you.
              </p>
            </>
          )}
        </aside>
      </div>
    </div>
  );
}
