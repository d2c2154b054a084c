// Variant options, selections and stock states: in the SDK, shared with the mobile app.
export {
  findVariant,
  initialSelection,
  isInStock,
  optionNames,
  optionValues,
  stockState,
  type Selection,
  type StockState,
} from "@emporium/sdk";
