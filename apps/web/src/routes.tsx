import type { ComponentType } from "react";
import { createBrowserRouter, isRouteErrorResponse, Link, useRouteError, type RouteObject } from "react-router";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Status";

// Each page is its own chunk, loaded when first visited.
const page = (load: () => Promise<{ default: ComponentType }>): Pick<RouteObject, "lazy"> => ({
  lazy: async () => ({ Component: (await load()).default }),
});

function RouteError() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <div className="page narrow">
      <h1>{notFound ? "Page not found" : "This page didn't load"}</h1>
      <p>
        {notFound
          ? "There is nothing at this address."
          : "The shop may have just been updated, or the connection dropped. Reloading usually fixes it."}
      </p>
      <p className="actions">
        {!notFound && (
          <button type="button" className="button" onClick={() => window.location.reload()}>
            Reload
          </button>
        )}
        <Link to="/" className="button button--secondary">
          Go to the home page
        </Link>
      </p>
    </div>
  );
}

export const routes: RouteObject[] = [
  {
    path: "/",
    Component: Layout,
    HydrateFallback: () => <Loading />,
    errorElement: <RouteError />,
    children: [
      { index: true, ...page(() => import("./pages/Home")) },
      { path: "c/:slug", ...page(() => import("./pages/Category")) },
      { path: "search", ...page(() => import("./pages/Search")) },
      { path: "p/:slug", ...page(() => import("./pages/Product")) },
      { path: "cart", ...page(() => import("./pages/Cart")) },
      { path: "checkout", ...page(() => import("./pages/Checkout")) },
      { path: "orders", ...page(() => import("./pages/Orders")) },
      { path: "orders/:id", ...page(() => import("./pages/OrderDetail")) },
      { path: "account", ...page(() => import("./pages/Account")) },
      { path: "sign-in", ...page(() => import("./pages/SignIn")) },
      { path: "register", ...page(() => import("./pages/Register")) },
      { path: "forgot-password", ...page(() => import("./pages/ForgotPassword")) },
      { path: "reset-password", ...page(() => import("./pages/ResetPassword")) },
      { path: "verify-email", ...page(() => import("./pages/VerifyEmail")) },
      { path: "*", ...page(() => import("./pages/NotFound")) },
    ],
  },
];

export const createRouter = () => createBrowserRouter(routes);
