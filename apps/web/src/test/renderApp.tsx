import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { AuthProvider } from "../lib/auth";
import { session } from "../lib/shop";
import { routes } from "../routes";

function providers(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return (
    <QueryClientProvider client={client}>
      <TransportProvider transport={session.transport}>
        <AuthProvider>{children}</AuthProvider>
      </TransportProvider>
    </QueryClientProvider>
  );
}

/** The whole app (real routes, real providers) at `path`. */
export function renderApp(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  return { router, ...render(providers(<RouterProvider router={router} />)) };
}

/** One component inside the app's providers and a router. */
export function renderWithProviders(ui: ReactNode) {
  const router = createMemoryRouter([{ path: "*", element: ui }]);
  return render(providers(<RouterProvider router={router} />));
}
