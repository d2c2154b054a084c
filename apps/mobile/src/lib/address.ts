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
  name: "",
  line1: "",
  line2: "",
  city: "",
  region: "",
  postalCode: "",
  country: "US",
  phone: "",
};

/** The fields a shopper must fill, keyed like the proto fields, with what to say. */
export function missingAddressFields(a: AddressInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (!a.name.trim()) out["name"] = "Enter the recipient's name.";
  if (!a.line1.trim()) out["line1"] = "Enter the street address.";
  if (!a.city.trim()) out["city"] = "Enter the city.";
  if (!/^[A-Za-z]{2}$/.test(a.country.trim())) out["country"] = "Enter the two-letter country code, e.g. US.";
  return out;
}
