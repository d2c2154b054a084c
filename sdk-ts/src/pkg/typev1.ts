// The proto package emporium.type.v1, all its files, for the `typev1`
// namespace of the index.
export * from "../gen/emporium/type/v1/address_pb.js";
export * from "../gen/emporium/type/v1/money_pb.js";
