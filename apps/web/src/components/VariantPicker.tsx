import type { Variant } from "@emporium/sdk";
import { isInStock, optionNames, optionValues, type Selection } from "../lib/variants";

/** One group of radio buttons per option (colour, size…); values that are sold out with the other choices say so. */
export function VariantPicker({
  variants,
  selection,
  onChange,
}: {
  variants: Variant[];
  selection: Selection;
  onChange: (next: Selection) => void;
}) {
  return (
    <div className="variants">
      {optionNames(variants).map((name) => (
        <fieldset key={name} className="variant-group">
          <legend>
            {name[0]?.toUpperCase()}
            {name.slice(1)}: <strong>{selection[name] ?? "choose"}</strong>
          </legend>
          <div className="chips">
            {optionValues(variants, name).map((value) => {
              const available = isInStock(variants, selection, name, value);
              return (
                <label key={value} className={`chip${available ? "" : " chip--out"}`}>
                  <input
                    type="radio"
                    name={`option-${name}`}
                    value={value}
                    checked={selection[name] === value}
                    onChange={() => onChange({ ...selection, [name]: value })}
                  />
                  <span>
                    {value}
                    {!available && <span className="visually-hidden">, sold out</span>}
                  </span>
                </label>
              );
            })}
          </div>
        </fieldset>
      ))}
    </div>
  );
}
