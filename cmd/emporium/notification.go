package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// notificationSettings configure the notification service's channels.
type notificationSettings struct {
	smtp          channel.SMTPConfig
	twilioSID     string
	twilioToken   string
	twilioFrom    string
	twilioBaseURL string
}

func (n *notificationSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&n.smtp.Host, "smtp-host", "", "notification: SMTP relay host for email; empty: the dev mailbox (dev, or serve with --dev-mailbox)")
	fs.IntVar(&n.smtp.Port, "smtp-port", 587, "notification: SMTP relay port")
	fs.StringVar(&n.smtp.Username, "smtp-username", "", "notification: SMTP AUTH user name; empty: no authentication")
	fs.StringVar(&n.smtp.Password, "smtp-password", "", "notification: SMTP AUTH password")
	fs.StringVar(&n.smtp.TLS, "smtp-tls", channel.TLSMandatory, "notification: SMTP TLS policy: mandatory (STARTTLS required), opportunistic, implicit (SMTPS, port 465) or none")
	fs.StringVar(&n.smtp.From, "mail-from", "Emporium <shop@localhost>", "notification: sender of emails, e.g. \"Emporium <shop@example.com>\"")
	fs.StringVar(&n.twilioSID, "twilio-account-sid", "", "notification: Twilio account SID (AC…) for SMS; empty: no SMS (dev: SMS go to the dev mailbox)")
	fs.StringVar(&n.twilioToken, "twilio-auth-token", "", "notification: Twilio auth token")
	fs.StringVar(&n.twilioFrom, "twilio-from", "", "notification: Twilio sending number, E.164 (+15005550006)")
	fs.StringVar(&n.twilioBaseURL, "twilio-base-url", "", "notification: Twilio API base URL; empty: Twilio's (set it to a fake to test)")
}

// notificationReachable reports whether this process can reach a
// notification service: its own, or one at an --upstream.
func notificationReachable(s *settings, p plan) bool {
	return p.notification || len(s.upstreams["notification"]) > 0
}

// notificationClient is how the user and order services reach the
// notification service, or nil when there is none.
func notificationClient(s *settings, p plan, pr *peers) notificationv1connect.NotificationServiceClient {
	if !notificationReachable(s, p) {
		return nil
	}
	hc, base := pr.later("notification")
	return notificationv1connect.NewNotificationServiceClient(hc, base, connect.WithInterceptors(pr.internal))
}

// openNotification opens the notification service with its channels: SMTP
// when --smtp-host is set, else the dev mailbox (only where the mailbox is
// allowed: dev, or --dev-mailbox); Twilio when --twilio-account-sid is
// set, else the dev mailbox there too, else no SMS.
func openNotification(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, pr *peers, opts []connect.HandlerOption) error {
	n := &s.notification
	deps := notification.Deps{Log: log, PublicURL: s.publicURL, JobPoll: s.commerce.jobPoll}
	switch {
	case n.smtp.Host != "":
		email, err := channel.NewSMTP(n.smtp)
		if err != nil {
			return fmt.Errorf("--smtp-host: %w", err)
		}
		deps.Email = email
	case s.devMailbox:
		deps.Email, deps.Mailbox = channel.Mailbox{Box: st.mail}, st.mail
	default:
		return errors.New("notification: set --smtp-host (and --mail-from) to send email, or --dev-mailbox to keep messages in this process")
	}
	switch {
	case n.twilioSID != "":
		sms, err := channel.NewTwilio(channel.TwilioConfig{
			AccountSID: n.twilioSID, AuthToken: n.twilioToken, From: n.twilioFrom, BaseURL: n.twilioBaseURL,
		})
		if err != nil {
			return fmt.Errorf("--twilio-account-sid: %w", err)
		}
		deps.SMS = sms
	case deps.Mailbox != nil:
		deps.SMS = channel.Mailbox{Box: st.mail}
	}
	d, err := openDB(ctx, log, p.notificationDB, "notification", notification.Migrate, s.migrate)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() { d.Close() })
	deps.DB = d
	hc, base := pr.later("user")
	deps.Users = userv1connect.NewUserServiceClient(hc, base, connect.WithInterceptors(pr.internal))
	svc, err := notification.New(deps)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	st.closers = append(st.closers, func() { stopJobs(log, "notification", svc.Stop) })
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	pr.local["notification"] = mux
	return nil
}
