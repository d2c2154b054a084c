package shipping

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/module"
)

// Module is the shipping service's wiring: the carriers --carriers names,
// the label store, tracking, and the order and notification services it
// reports to.
type Module struct {
	module.Base[Deps, *Service]

	// Adapters are the carriers with accounts the shop may name in
	// --carriers beside the built-in local one (ups.Adapter,
	// fedex.Adapter); each gets its --NAME-* flags.
	Adapters []CarrierAdapter

	rates         string
	shipFrom      string
	labelDir      string
	trackInterval time.Duration
	webhookSecret string
	webhookURL    string
	carriers      config.List
	localSchedule string
	accounts      map[string]*CarrierAccount
}

// CarrierAdapter is a carrier the shop holds an account with. Its package
// exports one (ups.Adapter, fedex.Adapter) for the module's list.
type CarrierAdapter struct {
	Name, Label    string // "ups", "UPS"
	Site           string // where accounts are made, e.g. "developer.ups.com"
	AccountHelp    string // what --NAME-account is
	DefaultBaseURL string
	New            func(acc CarrierAccount, shipper *typev1.PostalAddress, currency string) (LabelCarrier, error)
}

// CarrierAccount is an account at a carrier's REST API.
type CarrierAccount struct {
	ClientID, ClientSecret, Number, BaseURL string
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "shipping" }

// Routes implements module.Module: carriers push tracking to WebhookPath.
func (*Module) Routes() module.Routes {
	return module.Routes{Services: ServiceNames, Paths: []string{WebhookPath}}
}

// Peers implements module.Module.
func (*Module) Peers() []module.Peer {
	return []module.Peer{{Name: "order"}, {Name: "notification", Optional: true}}
}

// Flags implements module.Module.
func (m *Module) Flags(fs *flag.FlagSet) {
	fs.StringVar(&m.rates, "shipping-rates", "", "shipping: JSON rate table of the local carrier (weight brackets per zone); empty: the built-in table")
	fs.StringVar(&m.shipFrom, "ship-from", "", "shipping: the address parcels ship from, printed on labels, as JSON (name, line1, city, region, postalCode, country, phone); required by serve, dev ships from a demo warehouse")
	fs.StringVar(&m.labelDir, "label-dir", "", "shipping: where bought carrier labels are kept: a directory or s3://BUCKET/PREFIX?region=…; empty: labels/ in the data directory")
	fs.DurationVar(&m.trackInterval, "track-interval", 5*time.Minute, "shipping: how often to ask carriers where parcels on their way are")
	fs.StringVar(&m.webhookSecret, "carrier-webhook-secret", "", "shipping: HMAC secret of carrier tracking pushes to /webhooks/carriers/{carrier} (UPS Track Alert: the credential its pushes carry); empty refuses pushes")
	fs.StringVar(&m.webhookURL, "carrier-webhook-url", "", "shipping: where carriers reach this shop from the internet, e.g. https://shop.example.com; with --carrier-webhook-secret, UPS parcels are subscribed to Track Alert pushes; empty: tracking is polled only")
	m.carriers = config.List{"local"}
	names := "local (built in, no account)"
	for _, a := range m.Adapters {
		names += ", " + a.Name
	}
	fs.Var(&m.carriers, "carriers", "shipping: carriers that quote rates and buy labels, comma-separated: "+names)
	fs.StringVar(&m.localSchedule, "local-carrier-schedule", "2m,10m,15m", "shipping: how long after its label a local-carrier parcel is picked up, goes out for delivery and is delivered")
	m.accounts = map[string]*CarrierAccount{}
	for _, a := range m.Adapters {
		acc := new(CarrierAccount)
		m.accounts[a.Name] = acc
		fs.StringVar(&acc.ClientID, a.Name+"-client-id", "", fmt.Sprintf("shipping: OAuth client id of your app at %s", a.Site))
		fs.StringVar(&acc.ClientSecret, a.Name+"-client-secret", "", "shipping: its client secret; prefer the variable")
		fs.StringVar(&acc.Number, a.Name+"-account", "", "shipping: "+a.AccountHelp)
		fs.StringVar(&acc.BaseURL, a.Name+"-base-url", "", fmt.Sprintf("shipping: %s's API; empty: %s", a.Label, a.DefaultBaseURL))
	}
}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// Open implements module.Module.
func (m *Module) Open(_ context.Context, env *module.Env) (*module.Running, error) {
	rates := DefaultRateTable()
	if m.rates != "" {
		var err error
		if rates, err = LoadRateTable(m.rates); err != nil {
			return nil, err
		}
	}
	if m.shipFrom == "" {
		return nil, errors.New("--ship-from is required: the address parcels ship from, printed on labels, as JSON, e.g. {\"name\":\"Shop\",\"line1\":\"1 Dock Rd\",\"city\":\"Oakland\",\"region\":\"CA\",\"postalCode\":\"94607\",\"country\":\"US\"}")
	}
	from := new(typev1.PostalAddress)
	if err := protojson.Unmarshal([]byte(m.shipFrom), from); err != nil {
		return nil, fmt.Errorf("--ship-from: %w", err)
	}
	carriers, err := m.openCarriers(rates, from, env.Currency)
	if err != nil {
		return nil, err
	}
	dir := m.labelDir
	if dir == "" {
		dir = filepath.Join(env.DataDir, "labels")
	}
	labels, err := blob.Open(dir, env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("--label-dir: %w", err)
	}
	deps := Deps{
		// The local carrier quotes from rates, so the table is not a
		// carrier of its own here.
		Carriers: carriers, Currency: env.Currency, Log: env.Log, DB: env.DB,
		Orders:        module.Client(env, "order", orderv1connect.NewOrderServiceClient),
		Notifications: module.OptionalClient(env, "notification", notificationv1connect.NewNotificationServiceClient),
		Labels:        labels,
		From:          from,
		TrackInterval: m.trackInterval,
		WebhookSecret: m.webhookSecret,
		WebhookURL:    m.webhookURL,
		JobPoll:       env.JobPoll,
		JobTimeout:    env.JobTimeout,
	}
	svc, err := m.Make(deps, New)
	if err != nil {
		labels.Close()
		return nil, err
	}
	return module.Run(svc, env, func() { labels.Close() }), nil
}

// openCarriers makes the carriers named by --carriers. The local carrier
// prices by rates; the others rate from and print as the shipper the from
// address.
func (m *Module) openCarriers(rates *RateTable, from *typev1.PostalAddress, currency string) ([]LabelCarrier, error) {
	var out []LabelCarrier
	for _, name := range m.carriers {
		var (
			carrier LabelCarrier
			err     error
		)
		if name == "local" {
			cfg := LocalConfig{Rates: rates}
			if err := cfg.ParseSchedule(m.localSchedule); err != nil {
				return nil, fmt.Errorf("--local-carrier-schedule: %w", err)
			}
			carrier, err = NewLocalCarrier(cfg)
		} else if a, ok := m.adapter(name); ok {
			carrier, err = a.New(*m.accounts[name], from, currency)
		} else {
			return nil, fmt.Errorf("--carriers: unknown carrier %q (want local%s)", name, m.adapterNames())
		}
		if err != nil {
			return nil, fmt.Errorf("--carriers %s: %w (see --%s-* flags)", name, err, name)
		}
		out = append(out, carrier)
	}
	if len(out) == 0 {
		return nil, errors.New("--carriers: name at least one carrier")
	}
	return out, nil
}

func (m *Module) adapter(name string) (CarrierAdapter, bool) {
	for _, a := range m.Adapters {
		if a.Name == name {
			return a, true
		}
	}
	return CarrierAdapter{}, false
}

func (m *Module) adapterNames() string {
	var s string
	for i, a := range m.Adapters {
		if i == len(m.Adapters)-1 {
			s += " or " + a.Name
		} else {
			s += ", " + a.Name
		}
	}
	return s
}
