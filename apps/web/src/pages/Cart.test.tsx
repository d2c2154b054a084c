import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeEdge, money } from "../test/fakeEdge";
import { renderApp } from "../test/renderApp";

type Line = { sku: string; title: string; quantity: number; issue?: string };

function cartOf(lines: Line[]) {
  return {
    cart: {
      cartToken: "guest-token-1",
      lines: lines.map((l) => ({
        sku: l.sku, title: l.title, variantTitle: "M", productSlug: l.sku.toLowerCase(), unitPrice: money(5000),
        quantity: String(l.quantity), lineTotal: money(5000 * l.quantity), issue: l.issue ?? "",
      })),
      subtotal: money(lines.reduce((n, l) => n + 5000 * l.quantity, 0)),
      itemCount: String(lines.reduce((n, l) => n + l.quantity, 0)),
      ready: lines.every((l) => !l.issue),
    },
  };
}

describe("cart page", () => {
  it("shows a guest's cart from its token, says which line is sold out, and changes lines", async () => {
    const user = userEvent.setup();
    localStorage.setItem("emporium.cartToken", "guest-token-1");
    let lines: Line[] = [
      { sku: "APRON-M", title: "Linen Apron", quantity: 1 },
      { sku: "MUG-M", title: "Stoneware Mug", quantity: 2, issue: "Sold out" },
    ];
    const calls = fakeEdge({
      "CartService/GetCart": (req) => {
        expect(req.cartToken).toBe("guest-token-1");
        return cartOf(lines);
      },
      "CartService/UpdateItem": (req) => {
        lines = lines.map((l) => (l.sku === req.sku ? { ...l, quantity: Number(req.quantity) } : l));
        return cartOf(lines);
      },
      "CartService/RemoveItem": (req) => {
        lines = lines.filter((l) => l.sku !== req.sku);
        return cartOf(lines);
      },
    });
    renderApp("/cart");

    const list = await screen.findByRole("list", { name: "Items in your cart" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(2);
    expect(within(list).getByRole("alert")).toHaveTextContent("Sold out");
    expect(screen.getByText(/Some items can't be bought as they are/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Sign in to check out" })).toHaveAttribute("href", "/sign-in?next=%2Fcheckout");

    await user.click(screen.getByRole("button", { name: "Remove Stoneware Mug (M)" }));
    expect(await screen.findByRole("link", { name: "Cart, 1 item" })).toBeInTheDocument();
    expect(screen.queryByText(/Some items can't be bought/)).not.toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Quantity of Linen Apron (M)"), "3");
    expect(await screen.findByRole("link", { name: "Cart, 3 items" })).toBeInTheDocument();
    expect(calls.find((c) => c.method === "CartService/UpdateItem")?.body).toEqual({
      cartToken: "guest-token-1", sku: "APRON-M", quantity: "3",
    });
    expect(screen.getByText("$150.00", { selector: ".line__total" })).toBeInTheDocument();
  });

  it("forgets a guest cart that was merged elsewhere and shows an empty cart", async () => {
    localStorage.setItem("emporium.cartToken", "merged-token");
    fakeEdge({
      "CartService/GetCart": () => ({
        error: { code: "failed_precondition", message: "this cart was merged into a signed-in shopper's cart: sign in to see it" },
      }),
    });
    renderApp("/cart");
    expect(await screen.findByText("Your cart is empty.")).toBeInTheDocument();
    expect(localStorage.getItem("emporium.cartToken")).toBeNull();
  });
});
