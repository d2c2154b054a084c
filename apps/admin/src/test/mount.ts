// Mounts a component as the app would: Naive UI's providers, the real
// router (memory history) and a fresh query client.
import { QueryClient, VueQueryPlugin } from "@tanstack/vue-query";
import { mount } from "@vue/test-utils";
import { NDialogProvider, NMessageProvider } from "naive-ui";
import { defineComponent, h, type Component } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";
import { routes } from "../router";

export async function mountWith(component: Component, props: Record<string, unknown> = {}, path = "/") {
  const router = createRouter({ history: createMemoryHistory(), routes });
  await router.push(path);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const Host = defineComponent({
    setup: () => () => h(NMessageProvider, null, { default: () => h(NDialogProvider, null, { default: () => h(component, props) }) }),
  });
  const wrapper = mount(Host, { attachTo: document.body, global: { plugins: [router, [VueQueryPlugin, { queryClient }]] } });
  return { wrapper, router, queryClient };
}

/** Waits until `check` passes (Vue and the queries settle asynchronously). */
export async function eventually(check: () => void, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
