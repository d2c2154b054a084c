package main

import (
	"flag"
	"fmt"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/fedex"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
)

// carrierSettings choose and configure the carriers that buy labels.
type carrierSettings struct {
	names         config.List
	localSchedule string
	ups, fedex    carrierAccount
}

// carrierAccount is an account at a carrier's REST API.
type carrierAccount struct {
	clientID, clientSecret, account, baseURL string
}

func (c *carrierSettings) register(fs *flag.FlagSet) {
	c.names = config.List{"local"}
	fs.Var(&c.names, "carriers", "shipping: carriers that quote rates and buy labels, comma-separated: local (built in, no account), ups, fedex")
	fs.StringVar(&c.localSchedule, "local-carrier-schedule", "2m,10m,15m", "shipping: how long after its label a local-carrier parcel is picked up, goes out for delivery and is delivered")
	for _, a := range []struct {
		name, label, site, account, base string
		acc                              *carrierAccount
	}{
		{"ups", "UPS", "developer.ups.com", "the 6-character UPS shipper number labels are billed to", "https://onlinetools.ups.com", &c.ups},
		{"fedex", "FedEx", "developer.fedex.com", "the 9-digit FedEx account labels are billed to", "https://apis.fedex.com", &c.fedex},
	} {
		fs.StringVar(&a.acc.clientID, a.name+"-client-id", "", fmt.Sprintf("shipping: OAuth client id of your app at %s", a.site))
		fs.StringVar(&a.acc.clientSecret, a.name+"-client-secret", "", "shipping: its client secret; prefer the variable")
		fs.StringVar(&a.acc.account, a.name+"-account", "", "shipping: "+a.account)
		fs.StringVar(&a.acc.baseURL, a.name+"-base-url", "", fmt.Sprintf("shipping: %s's API; empty: %s", a.label, a.base))
	}
}

// open makes the carriers named by --carriers. The local carrier prices by
// rates; the others rate from and print as the shipper the from address.
func (c *carrierSettings) open(rates *shipping.RateTable, from *typev1.PostalAddress, currency string) ([]shipping.LabelCarrier, error) {
	var out []shipping.LabelCarrier
	for _, name := range c.names {
		var (
			carrier shipping.LabelCarrier
			err     error
		)
		switch name {
		case "local":
			cfg := shipping.LocalConfig{Rates: rates}
			if err := cfg.ParseSchedule(c.localSchedule); err != nil {
				return nil, fmt.Errorf("--local-carrier-schedule: %w", err)
			}
			carrier, err = shipping.NewLocalCarrier(cfg)
		case "ups":
			carrier, err = ups.New(ups.Config{ClientID: c.ups.clientID, ClientSecret: c.ups.clientSecret,
				AccountNumber: c.ups.account, Shipper: from, Currency: currency, BaseURL: c.ups.baseURL})
		case "fedex":
			carrier, err = fedex.New(fedex.Config{ClientID: c.fedex.clientID, ClientSecret: c.fedex.clientSecret,
				AccountNumber: c.fedex.account, Shipper: from, Currency: currency, BaseURL: c.fedex.baseURL})
		default:
			return nil, fmt.Errorf("--carriers: unknown carrier %q (want local, ups or fedex)", name)
		}
		if err != nil {
			return nil, fmt.Errorf("--carriers %s: %w (see --%s-* flags)", name, err, name)
		}
		out = append(out, carrier)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--carriers: name at least one carrier")
	}
	return out, nil
}
