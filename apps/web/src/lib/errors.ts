// Every error a shopper sees is worded by the SDK's describeError, from the
// Connect code the edge answered with (the mobile app words them the same
// way). Pages pass the raw error; they never show err.message.
export { describeError, isCode, isTransient, sentence, type ErrorOverrides, type ShopperError } from "@emporium/sdk";
