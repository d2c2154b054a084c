import { Field } from "./Field";

export interface AddressInput {
  name: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
  phone: string;
}

export const emptyAddress: AddressInput = {
  name: "", line1: "", line2: "", city: "", region: "", postalCode: "", country: "US", phone: "",
};

export const COUNTRIES: [string, string][] = [
  ["US", "United States"],
  ["CA", "Canada"],
  ["GB", "United Kingdom"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["NL", "Netherlands"],
  ["IE", "Ireland"],
  ["AU", "Australia"],
];

/** The fields of a postal address, labelled; `errors` are keyed like the proto fields (postal_code). */
export function AddressFields({
  value,
  onChange,
  errors = {},
}: {
  value: AddressInput;
  onChange: (next: AddressInput) => void;
  errors?: Record<string, string>;
}) {
  const set = (k: keyof AddressInput) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    onChange({ ...value, [k]: e.target.value });
  return (
    <div className="address-fields">
      <Field label="Full name" name="name" autoComplete="name" required value={value.name} onChange={set("name")} error={errors.name} />
      <Field label="Address" name="line1" autoComplete="address-line1" required value={value.line1} onChange={set("line1")} error={errors.line1} />
      <Field label="Apartment, suite (optional)" name="line2" autoComplete="address-line2" value={value.line2} onChange={set("line2")} />
      <div className="field-row">
        <Field label="City" name="city" autoComplete="address-level2" required value={value.city} onChange={set("city")} error={errors.city} />
        <Field label="State / region" name="region" autoComplete="address-level1" value={value.region} onChange={set("region")} error={errors.region} />
        <Field label="Postal code" name="postalCode" autoComplete="postal-code" value={value.postalCode} onChange={set("postalCode")} error={errors.postal_code} />
      </div>
      <div className="field">
        <label htmlFor="country">Country</label>
        <select id="country" name="country" autoComplete="country" value={value.country} onChange={set("country")}>
          {COUNTRIES.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <Field label="Phone (optional)" name="phone" type="tel" autoComplete="tel" value={value.phone} onChange={set("phone")} />
    </div>
  );
}

/** The required fields a shopper left empty, in the words shown next to them. */
export function missingAddressFields(a: AddressInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (!a.name.trim()) out.name = "Enter the name to deliver to.";
  if (!a.line1.trim()) out.line1 = "Enter the street address.";
  if (!a.city.trim()) out.city = "Enter the city.";
  return out;
}
