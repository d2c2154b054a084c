import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate, useNavigation, useSearchParams } from "react-router";
import { useAuth } from "../lib/auth";
import { useCart } from "../lib/cart";

function SearchBox() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const location = useLocation();
  const current = location.pathname === "/search" ? (params.get("q") ?? "") : "";
  const [q, setQ] = useState(current);
  useEffect(() => setQ(current), [current]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const query = q.trim();
    if (query) void navigate(`/search?q=${encodeURIComponent(query)}`);
  };
  return (
    <form role="search" className="search" onSubmit={submit}>
      <label htmlFor="site-search" className="visually-hidden">
        Search products
      </label>
      <input
        id="site-search"
        type="search"
        placeholder="Search jackets, boots, watches…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        maxLength={200}
        autoComplete="off"
      />
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}

function CartLink() {
  const { data: cart } = useCart();
  const count = cart ? Number(cart.itemCount) : 0;
  return (
    <NavLink to="/cart" className="nav__link" aria-label={`Cart, ${count} ${count === 1 ? "item" : "items"}`}>
      Cart <span className="badge" aria-hidden="true">{count}</span>
    </NavLink>
  );
}

function AccountLinks() {
  const { state } = useAuth();
  if (state.status === "signedIn") {
    return (
      <>
        <NavLink to="/orders" className="nav__link">
          Orders
        </NavLink>
        <NavLink to="/account" className="nav__link">
          Account
        </NavLink>
      </>
    );
  }
  if (state.status === "loading") return null;
  return (
    <NavLink to="/sign-in" className="nav__link">
      Sign in
    </NavLink>
  );
}

/** Moves focus to the page's main region after each navigation, so keyboard and screen-reader users start at the new content. */
function useFocusOnNavigate(ref: React.RefObject<HTMLElement | null>) {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname, ref]);
}

export function Layout() {
  const main = useRef<HTMLElement>(null);
  const navigation = useNavigation();
  useFocusOnNavigate(main);
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="header">
        <div className="header__inner">
          <Link to="/" className="logo" aria-label="Emporium home">
            <span aria-hidden="true" className="logo__mark">E</span>
            <span className="logo__text">Emporium</span>
          </Link>
          <SearchBox />
          <nav aria-label="Account and cart" className="nav">
            <AccountLinks />
            <CartLink />
          </nav>
        </div>
        {navigation.state === "loading" && <div className="progress" role="progressbar" aria-label="Loading page" />}
      </header>
      <main id="main" ref={main} tabIndex={-1} className="main">
        <Outlet />
      </main>
      <footer className="footer">
        <p>
          Emporium demo shop · payments go to a simulator: pay with <code>4242 4242 4242 4242</code>.
        </p>
      </footer>
    </div>
  );
}
