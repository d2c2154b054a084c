import { describe, expect, it } from "vitest";
import { eventually, mountWith } from "../test/mount";
import { fakeEdge, money } from "../test/fakeEdge";
import Orders from "./Orders.vue";

const order = (n: number, status: string) => ({
  id: `o${n}`, number: `EMP-${1000 + n}`, customerId: "u7", status,
  lines: [{ sku: "JKT-M", quantity: "2" }], total: money(4200), refundedTotal: money(n === 2 ? 1000 : 0),
  shippingAddress: { name: "Ada Lovelace" }, createTime: "2026-12-01T10:00:00Z",
});

describe("Orders", () => {
  it("lists a page of orders, links each, and pages on with the token", async () => {
    const calls = fakeEdge({
      "OrderService/ListOrders": (body) =>
        body.pageToken
          ? { orders: [order(3, "ORDER_STATUS_SHIPPED")] }
          : { orders: [order(1, "ORDER_STATUS_PAID"), order(2, "ORDER_STATUS_PARTIALLY_REFUNDED")], nextPageToken: "t2" },
    });
    const { wrapper } = await mountWith(Orders, {}, "/orders");
    await eventually(() => expect(wrapper.findAll("tbody tr")).toHaveLength(2));
    const rows = wrapper.findAll("tbody tr").map((r) => r.findAll("td").map((td) => td.text()));
    expect(rows[0]).toEqual(["EMP-1001", expect.any(String), "paid", "Ada Lovelace", "2", "$42.00", ""]);
    expect(rows[1]![2]).toBe("partially refunded");
    expect(rows[1]![6]).toBe("$10.00");
    expect(wrapper.find('a[href="/orders/o1"]').exists()).toBe(true);

    await wrapper.findAll("button").find((b) => b.text() === "Next")!.trigger("click");
    await eventually(() => expect(wrapper.findAll("tbody tr")).toHaveLength(1));
    expect(calls.at(-1)!.body).toMatchObject({ pageSize: 25, pageToken: "t2" });
    expect(wrapper.text()).toContain("Page 2");
  });

  it("sends the status filter from the URL and says when nothing matches", async () => {
    const calls = fakeEdge({ "OrderService/ListOrders": () => ({ orders: [] }) });
    const { wrapper } = await mountWith(Orders, {}, "/orders?status=2,3");
    await eventually(() => expect(wrapper.text()).toContain("No order matches these filters."));
    expect(calls[0]!.body).toMatchObject({ statuses: ["ORDER_STATUS_PAID", "ORDER_STATUS_FULFILLING"] });
  });

  it("shows an error staff understand, with a retry", async () => {
    fakeEdge({ "OrderService/ListOrders": () => ({ error: { code: "permission_denied", message: "staff only" } }) });
    const { wrapper } = await mountWith(Orders, {}, "/orders");
    await eventually(() => expect(wrapper.find('[role="alert"]').text()).toContain("Your role does not allow this."));
  });
});
