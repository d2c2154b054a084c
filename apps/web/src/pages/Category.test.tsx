import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeEdge, money } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

const product = (n: number, inStock = true) => ({
  id: `p${n}`, slug: `boot-${n}`, title: `Boot ${n}`, brand: "Ridgeback", category: "boots", price: money(10000 + n), inStock,
});

describe("category page", () => {
  it("pages through the category and narrows it with filters", async () => {
    const user = userEvent.setup();
    const calls = fakeEdge({
      "ProductService/ListCategories": () => ({ categories: [{ slug: "boots", name: "Boots", description: "Built to last.", productCount: "3" }] }),
      "ProductService/ListProducts": (req) => {
        if (req.inStockOnly) return { products: [product(1)] };
        if (req.pageToken === "page-2") return { products: [product(3, false)] };
        return { products: [product(1), product(2)], nextPageToken: "page-2" };
      },
    });
    const { router } = renderApp("/c/boots");
    expect(await screen.findByRole("heading", { level: 1, name: "Boots" })).toBeInTheDocument();
    const grid = await screen.findByRole("list", { name: "Boots" });
    expect(within(grid).getAllByRole("listitem")).toHaveLength(2);

    await user.click(screen.getByRole("button", { name: "Show more" }));
    expect(await within(grid).findByText("Boot 3")).toBeInTheDocument();
    expect(within(grid).getByText("Sold out")).toBeInTheDocument();
    expect(screen.getByText("That's everything in Boots.")).toBeInTheDocument();
    const pages = calls.filter((c) => c.method === "ProductService/ListProducts");
    expect(pages[1]!.body).toMatchObject({ category: "boots", pageSize: 24, pageToken: "page-2" });

    await user.click(screen.getByLabelText("In stock only"));
    await user.type(screen.getByLabelText("Min price ($)"), "50{Enter}");
    expect(router.state.location.search).toBe("?stock=1&min=50");
    await vi.waitFor(() =>
      expect(calls.at(-1)!.body).toMatchObject({ category: "boots", inStockOnly: true, minPrice: "5000" }),
    { timeout: 5000 });
    expect(await within(await screen.findByRole("list", { name: "Boots" })).findAllByRole("listitem")).toHaveLength(1);
  });
});
