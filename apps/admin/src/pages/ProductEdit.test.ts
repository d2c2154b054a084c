import { describe, expect, it } from "vitest";
import { eventually, mountWith } from "../test/mount";
import { fakeEdge, money } from "../test/fakeEdge";
import ProductEdit from "./ProductEdit.vue";

const product = (etag: string, title: string) => ({
  id: "p1", slug: "storm-shell", title, category: "jackets", status: "PRODUCT_STATUS_ACTIVE", etag,
  variants: [{ sku: "STORM-M", title: "M", options: { size: "M" }, price: money(12900), weightGrams: "700" }],
});

describe("ProductEdit", () => {
  it("sends the etag it loaded; a product saved by someone else meanwhile is a conflict with a reload, never an overwrite", async () => {
    let stored = product("1", "Storm Shell");
    fakeEdge({
      "ProductService/ListCategories": () => ({ categories: [{ slug: "jackets", name: "Jackets" }] }),
      "ProductService/GetProduct": () => ({ product: stored }),
      "ProductService/UpdateProduct": (body) => {
        if (body.etag !== stored.etag) return { error: { code: "aborted", message: "the product changed since etag 1" } };
        stored = product(String(Number(stored.etag) + 1), (body.product as { title: string }).title);
        return { product: stored };
      },
    });
    const { wrapper } = await mountWith(ProductEdit, { id: "p1" }, "/products/p1");
    await eventually(() => expect((wrapper.find("#p-title").element as HTMLInputElement).value).toBe("Storm Shell"));

    // Another staff member saves first.
    stored = product("2", "Storm Shell (theirs)");

    await wrapper.find("#p-title").setValue("Storm Shell (mine)");
    await wrapper.find('[data-testid="product-form"]').trigger("submit");
    await eventually(() => expect(wrapper.find('[role="alert"]').text()).toContain("Someone else changed this while you were editing"));
    expect(stored.title).toBe("Storm Shell (theirs)");

    await wrapper.findAll("button").find((b) => b.text() === "Reload")!.trigger("click");
    await eventually(() => expect((wrapper.find("#p-title").element as HTMLInputElement).value).toBe("Storm Shell (theirs)"));
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);

    await wrapper.find("#p-title").setValue("Storm Shell (mine, on theirs)");
    await wrapper.find('[data-testid="product-form"]').trigger("submit");
    await eventually(() => expect(stored.title).toBe("Storm Shell (mine, on theirs)"));
    expect(stored.etag).toBe("3");
  });
});
