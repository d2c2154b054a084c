import type { AddressInput } from "../lib/address";
import { TextField } from "./ui";

/** The fields of a postal address, labelled; `errors` are keyed like the proto fields. */
export function AddressForm({
  value,
  onChange,
  errors = {},
}: {
  value: AddressInput;
  onChange: (next: AddressInput) => void;
  errors?: Record<string, string>;
}) {
  const set = (k: keyof AddressInput) => (text: string) => onChange({ ...value, [k]: text });
  return (
    <>
      <TextField label="Full name" value={value.name} onChangeText={set("name")} autoComplete="name" error={errors["name"]} />
      <TextField label="Address" value={value.line1} onChangeText={set("line1")} autoComplete="address-line1" error={errors["line1"]} />
      <TextField label="Apartment, suite (optional)" value={value.line2} onChangeText={set("line2")} autoComplete="address-line2" error={errors["line2"]} />
      <TextField label="City" value={value.city} onChangeText={set("city")} error={errors["city"]} />
      <TextField label="State / region" value={value.region} onChangeText={set("region")} autoCapitalize="characters" error={errors["region"]} />
      <TextField label="Postal code" value={value.postalCode} onChangeText={set("postalCode")} autoComplete="postal-code" error={errors["postal_code"]} />
      <TextField label="Country code" value={value.country} onChangeText={(t) => set("country")(t.toUpperCase())} autoCapitalize="characters" maxLength={2} hint="Two letters, e.g. US, CA, GB." error={errors["country"]} />
      <TextField label="Phone (optional)" value={value.phone} onChangeText={set("phone")} keyboardType="phone-pad" autoComplete="tel" error={errors["phone"]} />
    </>
  );
}
