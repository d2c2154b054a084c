import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import { nextTick, ref } from "vue";
import { emptyDraft, variantsOf, type ProductDraft } from "../lib/productDraft";
import ProductForm from "./ProductForm.vue";

const categories = [{ slug: "jackets", name: "Jackets" }];

function render(draft: ProductDraft, errors: Record<string, string> = {}) {
  const model = ref(draft);
  const wrapper = mount(ProductForm, {
    attachTo: document.body,
    props: { categories, errors, modelValue: model.value, "onUpdate:modelValue": (d: ProductDraft) => (model.value = d) },
  });
  return { wrapper, model };
}

function filled(): ProductDraft {
  const d = emptyDraft("USD");
  d.title = "Storm Shell";
  d.slug = "storm-shell";
  d.category = "jackets";
  d.variants = [
    { sku: "STORM-M", title: "M", options: "size=M", price: "129.00", weightGrams: 700 },
    { sku: "STORM-L", title: "L", options: "size=L", price: "129.5", weightGrams: 720 },
  ];
  return d;
}

describe("ProductForm", () => {
  it("emits the draft, with prices in minor units and options as a map", async () => {
    const { wrapper } = render(filled());
    await wrapper.find("form").trigger("submit");
    const [[draft]] = wrapper.emitted("submit") as [[ProductDraft]];
    const variants = variantsOf(draft);
    expect(variants.map((v) => [v.sku, (v.price as { amount: bigint }).amount, v.options])).toEqual([
      ["STORM-M", 12900n, { size: "M" }],
      ["STORM-L", 12950n, { size: "L" }],
    ]);
  });

  it("refuses a bad price and a duplicate SKU next to their fields, without submitting", async () => {
    const d = filled();
    d.variants[1]!.sku = "STORM-M";
    d.variants[0]!.price = "12,99";
    const { wrapper } = render(d);
    await wrapper.find("form").trigger("submit");
    await nextTick();
    expect(wrapper.emitted("submit")).toBeUndefined();
    const v0 = wrapper.find('[data-testid="variant-0"]').text();
    const v1 = wrapper.find('[data-testid="variant-1"]').text();
    expect(v0).toContain("must be a price like 19.99");
    expect(v1).toContain("is used by another variant");
  });

  it("shows the server's field violations beside the fields they name", async () => {
    const { wrapper } = render(filled(), { "variants[1].sku": "value does not match regex pattern", slug: "is already taken" });
    expect(wrapper.find('[data-testid="variant-1"]').text()).toContain("value does not match regex pattern");
    expect(wrapper.text()).toContain("is already taken");
  });

  it("makes a new product's slug from its title until the slug is edited, and never changes an existing one's", async () => {
    const fresh = render(emptyDraft());
    await fresh.wrapper.find("#p-title").setValue("Storm Shell, 2nd Edition");
    expect(fresh.model.value.slug).toBe("storm-shell-2nd-edition");
    await fresh.wrapper.find("#p-slug").setValue("storm");
    await fresh.wrapper.find("#p-title").setValue("Storm Shell III");
    expect(fresh.model.value.slug).toBe("storm");

    const existing = render(filled());
    await existing.wrapper.find("#p-title").setValue("Renamed Shell");
    expect(existing.model.value.slug).toBe("storm-shell");
  });

  it("adds and removes variants, keeping at least one", async () => {
    const { wrapper, model } = render(emptyDraft());
    const remove = () => wrapper.findAll("button").find((b) => b.text().startsWith("Remove variant 1"))!;
    expect(remove().attributes("disabled")).toBeDefined();
    await wrapper.findAll("button").find((b) => b.text() === "Add a variant")!.trigger("click");
    expect(model.value.variants).toHaveLength(2);
    expect(wrapper.findAll("fieldset")).toHaveLength(2);
  });
});
