import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router/dom";
import { AuthProvider } from "./lib/auth";
import { createQueryClient } from "./lib/queryClient";
import { session } from "./lib/shop";
import { createRouter } from "./routes";
import "./styles.css";

const queryClient = createQueryClient();
const router = createRouter();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TransportProvider transport={session.transport}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </TransportProvider>
    </QueryClientProvider>
  </StrictMode>,
);
