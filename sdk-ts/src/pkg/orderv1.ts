// The proto package emporium.order.v1, all its files, for the `orderv1`
// namespace of the index.
export * from "../gen/emporium/order/v1/cart_pb.js";
export * from "../gen/emporium/order/v1/order_pb.js";
