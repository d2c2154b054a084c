import type { Variant } from "@emporium/sdk";
import { fireEvent, render, screen } from "@testing-library/react-native";
import { useState } from "react";
import { VariantPicker } from "../components/VariantPicker";

const usd = (amount: bigint) => ({ $typeName: "emporium.type.v1.Money", amount, currency: "USD" }) as const;
const v = (sku: string, colour: string, size: string, stock: bigint): Variant =>
  ({ $typeName: "emporium.product.v1.Variant", sku, title: `${colour} / ${size}`, options: { colour, size }, price: usd(5000n), stock, weightGrams: 0n }) as Variant;

const variants = [v("J-RED-S", "red", "S", 0n), v("J-RED-M", "red", "M", 4n), v("J-BLUE-S", "blue", "S", 9n), v("J-BLUE-M", "blue", "M", 0n)];

function Harness({ onSelect }: { onSelect: (s: Record<string, string>) => void }) {
  const [selection, setSelection] = useState<Record<string, string>>({ colour: "red", size: "M" });
  return (
    <VariantPicker
      variants={variants}
      selection={selection}
      onChange={(s) => {
        setSelection(s);
        onSelect(s);
      }}
    />
  );
}

test("one row of radios per option; choices that are sold out with the others kept say so", async () => {
  const picked: Record<string, string>[] = [];
  await render(<Harness onSelect={(s) => picked.push(s)} />);
  expect(screen.getByText(/^Colour: /)).toHaveTextContent("Colour: red");
  expect(screen.getByText(/^Size: /)).toHaveTextContent("Size: M");
  expect(screen.getByRole("radio", { name: "red" })).toBeChecked();
  expect(screen.getByRole("radio", { name: "M" })).toBeChecked();
  // Blue in M is sold out; red in S is too.
  expect(screen.getByRole("radio", { name: "blue, sold out" })).not.toBeChecked();
  expect(screen.getByRole("radio", { name: "S, sold out" })).toBeOnTheScreen();

  await fireEvent.press(screen.getByRole("radio", { name: "S, sold out" }));
  expect(picked.at(-1)).toEqual({ colour: "red", size: "S" });
  // With S chosen, blue is the colour in stock.
  expect(screen.getByRole("radio", { name: "blue" })).toBeOnTheScreen();
  expect(screen.getByRole("radio", { name: "red, sold out" })).toBeChecked();
});
