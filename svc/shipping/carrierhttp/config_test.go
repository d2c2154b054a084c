package carrierhttp_test

import (
	"testing"

	"github.com/emporiumhq/emporium/svc/shipping/carrierhttp"
)

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required map[string]string
		also     []string
		want     string // "" for no error
	}{
		{"all set", map[string]string{"client id": "id", "currency": "USD"}, nil, ""},
		{"one empty", map[string]string{"client id": "id", "currency": ""}, nil, "acme: missing currency"},
		{"sorted with the carrier's own", map[string]string{"currency": "", "account number": ""}, []string{"shipper address"},
			"acme: missing account number, currency, shipper address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := carrierhttp.CheckConfig("acme", tt.required, tt.also...)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckConfig = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImperial(t *testing.T) {
	t.Parallel()
	for country, want := range map[string]bool{"US": true, "PR": true, "CA": false, "GB": false, "": false} {
		if got := carrierhttp.Imperial(country); got != want {
			t.Errorf("Imperial(%q) = %v, want %v", country, got, want)
		}
	}
}
