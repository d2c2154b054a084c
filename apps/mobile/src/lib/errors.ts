// Errors are worded by the SDK's describeError, as in the web shop, so a
// shopper reads the same sentences on both.
export { describeError, isCode, isTransient, type ErrorOverrides, type ShopperError } from "@emporium/sdk";
