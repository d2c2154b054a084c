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
  description: "A waxed cotton coat.",
  price: money(23500),
  inStock: true,
  images: [{ url: "/media/products/relaxed-chore-coat.svg", alt: "Relaxed Chore Coat" }],
  variants: [
    { sku: "JKT-SAND-M", title: "Sand / M", options: { colour: "Sand", size: "M" }, price: money(23500), stock: "77" },
    { sku: "JKT-SAND-L", title: "Sand / L", options: { colour: "Sand", size: "L" }, price: money(23500) },
    { sku: "JKT-SAND-XL", title: "Sand / XL", options: { colour: "Sand", size: "XL" }, price: money(24500), stock: "3" },
  ],
};

function cart(lines: { sku: string; quantity: number }[], cartToken = "guest-token-1") {
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  return { cart: { cartToken, lines: lines.map((l) => ({ ...l, quantity: String(l.quantity) })), itemCount: String(count), ready: true } };
}

describe("product page", () => {
  it("shows stock per variant, refuses sold-out sizes, and adds to a guest cart kept across reloads", async () => {
    const user = userEvent.setup();
    const calls = fakeEdge({
      "ProductService/GetProduct": (req) => {
        expect(req).toEqual({ slug: "relaxed-chore-coat" });
        return { product: coat };
      },
      "CartService/AddItem": (req) => cart([{ sku: String(req.sku), quantity: Number(req.quantity) }]),
    });
    renderApp("/p/relaxed-chore-coat");

    expect(await screen.findByRole("heading", { level: 1, name: "Relaxed Chore Coat" })).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: "M" })).toBeChecked(); // the first size in stock
    expect(screen.getByText("In stock")).toBeInTheDocument();

    await user.click(screen.getByRole("radio", { name: "L, sold out" }));
    expect(screen.getByText("Sold out", { selector: ".stock" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sold out" })).toBeDisabled();

    await user.click(screen.getByRole("radio", { name: "XL" }));
    expect(screen.getByText("Only 3 left")).toBeInTheDocument();
    expect(screen.getByText("$245.00", { selector: ".buy__price *" })).toBeInTheDocument();

    await user.clear(screen.getByLabelText("Quantity"));
    await user.type(screen.getByLabelText("Quantity"), "2");
    await user.click(screen.getByRole("button", { name: "Add to cart" }));
    expect(await screen.findByText("Added to your cart.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "CartService/AddItem")?.body).toEqual({ sku: "JKT-SAND-XL", quantity: "2" });
    expect(localStorage.getItem("emporium.cartToken")).toBe("guest-token-1");
    expect(screen.getByRole("link", { name: "Cart, 2 items" })).toBeInTheDocument();
  });

  it("says when a product does not exist", async () => {
    fakeEdge({ "ProductService/GetProduct": () => ({ error: { code: "not_found", message: "product not found" } }) });
    renderApp("/p/nope");
    expect(await screen.findByRole("heading", { level: 1, name: "Product not found" })).toBeInTheDocument();
  });

  it("turns a sold-out answer into the shopper's words", async () => {
    const user = userEvent.setup();
    fakeEdge({
      "ProductService/GetProduct": () => ({ product: coat }),
      "CartService/AddItem": () => ({ error: { code: "failed_precondition", message: "Relaxed Chore Coat is sold out" } }),
    });
    renderApp("/p/relaxed-chore-coat");
    await user.click(await screen.findByRole("button", { name: "Add to cart" }));
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("Relaxed Chore Coat is sold out."));
  });
});
