package user

import (
	"context"
	"flag"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/module"
)

// Module is the user service's wiring. Its verification and reset links go
// to the notification service through the outbox when one runs, else
// straight to the process's mailbox.
type Module struct {
	module.Base[Deps, *Service]
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "user" }

// Routes implements module.Module: sign-up and password resets share the
// edge's strict "login" limit with sign-in.
func (*Module) Routes() module.Routes {
	return module.Routes{Services: ServiceNames, Limits: map[string]string{
		userv1connect.UserServiceRegisterProcedure:             "login",
		userv1connect.UserServiceRequestPasswordResetProcedure: "login",
		userv1connect.UserServiceResetPasswordProcedure:        "login",
	}}
}

// Peers implements module.Module.
func (*Module) Peers() []module.Peer {
	return []module.Peer{{Name: "notification", Optional: true}}
}

// Flags implements module.Module: the user service has none of its own.
func (*Module) Flags(*flag.FlagSet) {}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// Open implements module.Module.
func (m *Module) Open(_ context.Context, env *module.Env) (*module.Running, error) {
	deps := Deps{
		DB: env.DB, Mail: env.Mailbox, JobPoll: env.JobPoll, JobTimeout: env.JobTimeout, PublicURL: env.PublicURL, Log: env.Log, Revocations: env.Revocations,
		Notifications: module.OptionalClient(env, "notification", notificationv1connect.NewNotificationServiceClient),
	}
	svc, err := m.Make(deps, New)
	if err != nil {
		return nil, err
	}
	return module.Run(svc, env, nil), nil
}
