package carrierhttp

import (
	"fmt"
	"slices"
	"strings"
)

// CheckConfig is the check of a carrier adapter's settings: it names, in
// one error and in alphabetical order, each of required (setting's name →
// value) that is empty and each of also, the carrier's own findings
// ("shipper address (with country and postal code)").
func CheckConfig(carrier string, required map[string]string, also ...string) error {
	missing := slices.Clone(also)
	for name, v := range required {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("%s: missing %s", carrier, strings.Join(missing, ", "))
}

// Imperial reports whether parcels shipped from country are weighed in
// pounds and measured in inches (the United States and Puerto Rico).
func Imperial(country string) bool { return country == "US" || country == "PR" }
