import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeEdge, money } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

const coat = {
  id: "p1",
  slug: "relaxed-chore-coat",
  title: "Relaxed Chore Coat",
  brand: "Northwind",
  category: "jackets",
  price: money(23500),
  inStock: true,
  variants: [{ sku: "JKT-SAND-M", title: "Sand / M", options: { size: "M" }, price: money(23500), stock: "7" }],
};

describe("search analytics", () => {
  it("sends a visit key with searches and the search id when a result is opened and added to the cart", async () => {
    const user = userEvent.setup();
    const calls = fakeEdge({
      "ProductService/SearchProducts": () => ({ hits: [{ product: coat, score: 1 }], totalSize: "1", searchId: "search-1" }),
      "ProductService/GetProduct": () => ({ product: coat }),
      "CartService/AddItem": (req) => ({
        cart: { cartToken: "guest-token-1", lines: [{ sku: req.sku, quantity: req.quantity }], itemCount: "1", ready: true },
      }),
    });
    renderApp("/search?q=coat");
    await user.click(await screen.findByRole("link", { name: /Relaxed Chore Coat/ }));
    await user.click(await screen.findByRole("button", { name: "Add to cart" }));
    expect(await screen.findByText("Added to your cart.")).toBeInTheDocument();

    const search = calls.find((c) => c.method === "ProductService/SearchProducts")?.body;
    expect(search?.query).toBe("coat");
    expect(search?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sessionStorage.getItem("emporium.searchSession")).toBe(search?.sessionId);
    expect(calls.find((c) => c.method === "ProductService/GetProduct")?.body).toEqual({ slug: "relaxed-chore-coat", searchId: "search-1" });
    await waitFor(() =>
      expect(calls.find((c) => c.method === "CartService/AddItem")?.body).toEqual({ sku: "JKT-SAND-M", quantity: "1", searchId: "search-1" }),
    );
  });

  it("sends no search id when a product is opened from elsewhere", async () => {
    const calls = fakeEdge({ "ProductService/GetProduct": () => ({ product: coat }) });
    renderApp("/p/relaxed-chore-coat");
    expect(await screen.findByRole("heading", { level: 1, name: "Relaxed Chore Coat" })).toBeInTheDocument();
    expect(calls.find((c) => c.method === "ProductService/GetProduct")?.body).toEqual({ slug: "relaxed-chore-coat" });
  });
});
