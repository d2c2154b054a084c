// The panel's routes, under /admin/. Every page is its own chunk, so the
// first load carries only the shell and the page opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { auth, restore } from "./lib/auth";

export const routes: RouteRecordRaw[] = [
  { path: "/sign-in", name: "sign-in", component: () => import("./pages/SignIn.vue"), meta: { public: true } },
  {
    path: "/",
    component: () => import("./components/AdminLayout.vue"),
    children: [
      { path: "", name: "dashboard", component: () => import("./pages/Dashboard.vue") },
      { path: "products", name: "products", component: () => import("./pages/Products.vue") },
      { path: "products/new", name: "product-new", component: () => import("./pages/ProductEdit.vue") },
      { path: "products/:id", name: "product", component: () => import("./pages/ProductEdit.vue"), props: true },
      { path: "categories", name: "categories", component: () => import("./pages/Categories.vue") },
      { path: "inventory", name: "inventory", component: () => import("./pages/Inventory.vue") },
      { path: "catalog-files", name: "catalog-files", component: () => import("./pages/CatalogFiles.vue") },
      { path: "orders", name: "orders", component: () => import("./pages/Orders.vue") },
      { path: "orders/:id", name: "order", component: () => import("./pages/OrderDetail.vue"), props: true },
      { path: "customers", name: "customers", component: () => import("./pages/Customers.vue") },
      { path: "customers/:id", name: "customer", component: () => import("./pages/CustomerDetail.vue"), props: true },
      { path: "discounts", name: "discounts", component: () => import("./pages/Discounts.vue") },
      { path: "notifications/templates", name: "templates", component: () => import("./pages/Templates.vue") },
      { path: "notifications/deliveries", name: "deliveries", component: () => import("./pages/Deliveries.vue") },
      { path: "audit", name: "audit", component: () => import("./pages/Audit.vue") },
      { path: "mailbox", name: "mailbox", component: () => import("./pages/Mailbox.vue") },
      { path: ":rest(.*)*", name: "not-found", component: () => import("./pages/NotFound.vue") },
    ],
  },
];

export function createAdminRouter(base = import.meta.env.BASE_URL) {
  const router = createRouter({ history: createWebHistory(base), routes });
  // Every page but sign-in needs a staff session; the server checks each call anyway.
  router.beforeEach(async (to) => {
    if (to.meta.public) return true;
    if (auth.me || (await restore())) return true;
    return { name: "sign-in", query: to.fullPath !== "/" ? { next: to.fullPath } : {} };
  });
  return router;
}
