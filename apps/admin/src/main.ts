import { QueryClient, VueQueryPlugin } from "@tanstack/vue-query";
import { createApp } from "vue";
import App from "./App.vue";
import { isTransient } from "./lib/errors";
import { createAdminRouter } from "./router";
import "./styles.css";

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 10_000, retry: (n, err) => n < 2 && isTransient(err), refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

createApp(App).use(createAdminRouter()).use(VueQueryPlugin, { queryClient: createQueryClient() }).mount("#app");
