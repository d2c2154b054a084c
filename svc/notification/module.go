package notification

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// Module is the notification service's wiring: its channels (SMTP when
// --smtp-host is set, else the dev mailbox where it is shown; Twilio when
// --twilio-account-sid is set, else the dev mailbox there too, else no SMS)
// and the user service it looks shoppers up in.
type Module struct {
	module.Base[Deps, *Service]

	smtp          channel.SMTPConfig
	twilioSID     string
	twilioToken   string
	twilioFrom    string
	twilioBaseURL string
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "notification" }

// Routes implements module.Module. A shop may run without notifications
// (serve needs an SMTP relay for them), so the service is optional.
func (*Module) Routes() module.Routes {
	return module.Routes{Services: ServiceNames, Optional: true}
}

// Peers implements module.Module.
func (*Module) Peers() []module.Peer { return []module.Peer{{Name: "user"}} }

// Flags implements module.Module.
func (m *Module) Flags(fs *flag.FlagSet) {
	fs.StringVar(&m.smtp.Host, "smtp-host", "", "notification: SMTP relay host for email; empty: the dev mailbox (dev, or serve with --dev-mailbox)")
	fs.IntVar(&m.smtp.Port, "smtp-port", 587, "notification: SMTP relay port")
	fs.StringVar(&m.smtp.Username, "smtp-username", "", "notification: SMTP AUTH user name; empty: no authentication")
	fs.StringVar(&m.smtp.Password, "smtp-password", "", "notification: SMTP AUTH password")
	fs.StringVar(&m.smtp.TLS, "smtp-tls", channel.TLSMandatory, "notification: SMTP TLS policy: mandatory (STARTTLS required), opportunistic, implicit (SMTPS, port 465) or none")
	fs.StringVar(&m.smtp.From, "mail-from", "Emporium <shop@localhost>", "notification: sender of emails, e.g. \"Emporium <shop@example.com>\"")
	fs.StringVar(&m.twilioSID, "twilio-account-sid", "", "notification: Twilio account SID (AC…) for SMS; empty: no SMS (dev: SMS go to the dev mailbox)")
	fs.StringVar(&m.twilioToken, "twilio-auth-token", "", "notification: Twilio auth token")
	fs.StringVar(&m.twilioFrom, "twilio-from", "", "notification: Twilio sending number, E.164 (+15005550006)")
	fs.StringVar(&m.twilioBaseURL, "twilio-base-url", "", "notification: Twilio API base URL; empty: Twilio's (set it to a fake to test)")
}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// Open implements module.Module.
func (m *Module) Open(_ context.Context, env *module.Env) (*module.Running, error) {
	deps := Deps{
		DB: env.DB, Log: env.Log, PublicURL: env.PublicURL, JobPoll: env.JobPoll, JobTimeout: env.JobTimeout,
		Users: module.Client(env, "user", userv1connect.NewUserServiceClient),
	}
	switch {
	case m.smtp.Host != "":
		email, err := channel.NewSMTP(m.smtp)
		if err != nil {
			return nil, fmt.Errorf("--smtp-host: %w", err)
		}
		deps.Email = email
	case env.DevMailbox:
		deps.Email, deps.Mailbox = channel.Mailbox{Box: env.Mailbox}, env.Mailbox
	default:
		return nil, errors.New("notification: set --smtp-host (and --mail-from) to send email, or --dev-mailbox to keep messages in this process")
	}
	switch {
	case m.twilioSID != "":
		sms, err := channel.NewTwilio(channel.TwilioConfig{
			AccountSID: m.twilioSID, AuthToken: m.twilioToken, From: m.twilioFrom, BaseURL: m.twilioBaseURL,
		})
		if err != nil {
			return nil, fmt.Errorf("--twilio-account-sid: %w", err)
		}
		deps.SMS = sms
	case deps.Mailbox != nil:
		deps.SMS = channel.Mailbox{Box: env.Mailbox}
	}
	svc, err := m.Make(deps, New)
	if err != nil {
		return nil, err
	}
	return module.Run(svc, env, nil), nil
}
