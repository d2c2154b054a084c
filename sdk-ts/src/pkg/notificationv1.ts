// The proto package emporium.notification.v1, all its files, for the
// `notificationv1` namespace of the index.
export * from "../gen/emporium/notification/v1/notification_pb.js";
export * from "../gen/emporium/notification/v1/manage_pb.js";
