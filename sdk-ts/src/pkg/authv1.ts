// The proto package emporium.auth.v1, all its files, for the `authv1`
// namespace of the index.
export * from "../gen/emporium/auth/v1/access_pb.js";
export * from "../gen/emporium/auth/v1/auth_pb.js";
