import { create } from "@bufbuild/protobuf";
import { OrderSchema, OrderStatus } from "@emporium/sdk";
import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeEdge } from "../test/fakeEdge";
import { renderWithProviders } from "../test/renderApp";
import { Parcels } from "./Parcels";

const order = (status: OrderStatus) =>
  create(OrderSchema, {
    id: "o1", number: "EMP-7K2M9QX4", status,
    lines: [
      { sku: "JKT-M", title: "Storm Jacket", variantTitle: "M", quantity: 1n },
      { sku: "CAP-L", title: "Wool Cap", variantTitle: "L", quantity: 2n },
    ],
  });

describe("parcels of an order", () => {
  it("lists each parcel with its carrier, tracking link and scans, newest first", async () => {
    const calls = fakeEdge({
      "ShippingService/ListOrderShipments": () => ({
        shipments: [
          {
            id: "s1", orderId: "o1", carrier: "ups", service: "ground", trackingNumber: "1ZA1B2C30312345678",
            trackingUrl: "https://www.ups.com/track?tracknum=1ZA1B2C30312345678", status: "SHIPMENT_STATUS_IN_TRANSIT",
            items: [{ sku: "JKT-M", quantity: "1" }],
            events: [
              { time: "2026-12-01T09:00:00Z", status: "SHIPMENT_STATUS_LABEL_CREATED", description: "Shipment Ready for UPS" },
              { time: "2026-12-01T18:00:00Z", status: "SHIPMENT_STATUS_IN_TRANSIT", description: "Departed facility", location: "Louisville, KY, US" },
            ],
          },
          { id: "s2", orderId: "o1", carrier: "local", service: "standard", trackingNumber: "LC123", status: "SHIPMENT_STATUS_VOIDED",
            items: [{ sku: "CAP-L", quantity: "2" }] },
          { id: "s3", orderId: "o1", carrier: "local", service: "standard", trackingNumber: "LC456", status: "SHIPMENT_STATUS_DELIVERED",
            items: [{ sku: "CAP-L", quantity: "2" }] },
        ],
      }),
    });
    renderWithProviders(<Parcels order={order(OrderStatus.SHIPPED)} />);

    expect(await screen.findByRole("heading", { name: "Your 2 parcels" })).toBeInTheDocument();
    expect(calls.map((c) => c.body)).toEqual([{ orderId: "o1" }]);
    const first = screen.getByRole("listitem", { name: "Parcel 1 · On its way" });
    expect(within(first).getByRole("link", { name: "1ZA1B2C30312345678" })).toHaveAttribute(
      "href", "https://www.ups.com/track?tracknum=1ZA1B2C30312345678");
    expect(within(first).getByText("Storm Jacket (M) × 1")).toBeInTheDocument();
    const scans = within(within(first).getByRole("list", { name: "Tracking of parcel 1" })).getAllByRole("listitem");
    expect(scans.map((s) => s.querySelector("strong")?.textContent)).toEqual(["Departed facility", "Shipment Ready for UPS"]);
    expect(scans[0]).toHaveTextContent("Louisville, KY, US");
    // The voided label is not a parcel the shopper waits for.
    const second = screen.getByRole("listitem", { name: "Parcel 2 · Delivered" });
    expect(within(second).getByText("LC456")).toBeInTheDocument();
    expect(screen.queryByText("LC123")).not.toBeInTheDocument();
  });

  it("asks for nothing before the order is being packed", () => {
    const calls = fakeEdge({});
    const { container } = renderWithProviders(<Parcels order={order(OrderStatus.PAID)} />);
    expect(container).toBeEmptyDOMElement();
    expect(calls).toHaveLength(0);
  });
});
