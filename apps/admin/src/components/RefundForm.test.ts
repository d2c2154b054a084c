import { create } from "@bufbuild/protobuf";
import { MoneySchema } from "@emporium/sdk";
import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import RefundForm from "./RefundForm.vue";

const usd = (amount: bigint) => create(MoneySchema, { amount, currency: "USD" });

async function choosePart(wrapper: ReturnType<typeof mount>, amount: string) {
  await wrapper.findAll('input[type="radio"]').find((r) => r.attributes("value") === "part")!.setValue(true);
  await wrapper.find("#refund-amount").setValue(amount);
}

describe("RefundForm", () => {
  it("shows what is still refundable", () => {
    const wrapper = mount(RefundForm, { props: { total: usd(10000n), refunded: usd(2500n) } });
    expect(wrapper.find('[data-testid="refundable"]').text()).toBe("$75.00");
  });

  it("refunds all of it without an amount", async () => {
    const wrapper = mount(RefundForm, { props: { total: usd(10000n) } });
    await wrapper.find("#refund-reason").setValue("damaged");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.emitted("submit")).toEqual([[{ amount: undefined, reason: "damaged" }]]);
  });

  it("sends a part in minor units", async () => {
    const wrapper = mount(RefundForm, { props: { total: usd(10000n) } });
    await choosePart(wrapper, "12.34");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.emitted("submit")).toEqual([[{ amount: 1234n, reason: "" }]]);
  });

  it("refuses more than is refundable, saying the bound", async () => {
    const wrapper = mount(RefundForm, { props: { total: usd(10000n), refunded: usd(9000n) } });
    await choosePart(wrapper, "10.01");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.emitted("submit")).toBeUndefined();
    expect(wrapper.text()).toContain("at most $10.00 can be refunded");
  });
});
