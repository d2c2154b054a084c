// Package notification is the notification service: it turns domain events
// (reported through Notify by the user, order and shipping services'
// outboxes) into emails and text messages, from templates staff edit, and
// delivers each at most once per event and channel. It implements
// NotificationService, TemplateService, DeliveryService, PreferenceService
// and MailboxService from api/emporium/notification/v1.
//
// Notify renders the messages an event causes and stores one delivery per
// channel with a River job, in one transaction, keyed by the event id: a
// repeated event finds its deliveries and adds none. The job sends through
// the channel's adapter (package channel) and records every attempt. A
// delivery is marked sending before the provider is called and sent right
// after it accepts; a job that finds a delivery still marked sending knows
// the worker died in between, without knowing whether the message left, so
// it sends nothing and leaves the delivery dead ("unconfirmed") for staff
// to check and retry. A message is thus never sent twice by us; the SMTP
// Message-ID, derived from the delivery id, lets receivers tell a resend
// apart too.
package notification

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// Defaults of Deps.
const (
	DefaultMaxAttempts = 8
	DefaultRetryBase   = 10 * time.Second
	maxRetryDelay      = time.Hour
)

// Deps are what the service needs from the outside.
type Deps struct {
	DB *bun.DB // migrated with Migrate
	// Users looks up shoppers (GetContact), with the internal credential.
	Users userv1connect.UserServiceClient
	// Email delivers emails: channel.SMTP, or channel.Mailbox in dev.
	Email channel.EmailSender
	// SMS delivers text messages: channel.Twilio, channel.Mailbox in dev,
	// or nil for none.
	SMS channel.SMSSender
	// Mailbox, when set, is the dev mailbox the channels deliver into;
	// MailboxService serves it. Leave nil in production.
	Mailbox *mailbox.Mailbox
	// PublicURL is where shoppers reach the shop, for links to their
	// orders; empty: messages carry no such link.
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time // default time.Now
	// JobPoll is how often River looks for jobs; 0 means River's default.
	JobPoll time.Duration
	// JobTimeout bounds each job's run; 0 means the jobs package's default.
	JobTimeout time.Duration
	// MaxAttempts is how many times a delivery is tried before it is dead;
	// default DefaultMaxAttempts.
	MaxAttempts int
	// RetryBase is the wait before the first retry, doubled for each
	// further one (at most an hour); default DefaultRetryBase.
	RetryBase time.Duration
	// AfterSend, when set, is called after a provider accepted a message
	// and before the delivery is marked sent: crash-safety tests stop the
	// worker there. Never set it in production.
	AfterSend func(deliveryID string)
}

// Service implements the notification API.
type Service struct {
	store       *store
	users       userv1connect.UserServiceClient
	email       channel.EmailSender
	sms         channel.SMSSender
	box         *mailbox.Mailbox
	publicURL   string
	log         *slog.Logger
	now         func() time.Time
	maxAttempts int
	afterSend   func(string)
	jobs        *jobs.Client
}

var (
	_ notificationv1connect.NotificationServiceHandler = (*Service)(nil)
	_ notificationv1connect.TemplateServiceHandler     = (*Service)(nil)
	_ notificationv1connect.DeliveryServiceHandler     = (*Service)(nil)
	_ notificationv1connect.PreferenceServiceHandler   = (*Service)(nil)
	_ notificationv1connect.MailboxServiceHandler      = (*Service)(nil)
)

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{
	notificationv1connect.NotificationServiceName, notificationv1connect.TemplateServiceName,
	notificationv1connect.DeliveryServiceName, notificationv1connect.PreferenceServiceName,
	notificationv1connect.MailboxServiceName,
}

// New checks deps and returns the service; Start runs its deliveries.
func New(d Deps) (*Service, error) {
	switch {
	case d.DB == nil:
		return nil, errors.New("notification: DB is required")
	case d.Users == nil:
		return nil, errors.New("notification: Users is required")
	case d.Email == nil:
		return nil, errors.New("notification: an Email channel is required")
	case d.Log == nil:
		return nil, errors.New("notification: Log is required")
	case d.MaxAttempts < 0 || d.RetryBase < 0:
		return nil, errors.New("notification: MaxAttempts and RetryBase cannot be negative")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxAttempts == 0 {
		d.MaxAttempts = DefaultMaxAttempts
	}
	if d.RetryBase == 0 {
		d.RetryBase = DefaultRetryBase
	}
	if d.AfterSend == nil {
		d.AfterSend = func(string) {}
	}
	s := &Service{
		store: &store{db: d.DB}, users: d.Users, email: d.Email, sms: d.SMS, box: d.Mailbox,
		publicURL: strings.TrimRight(d.PublicURL, "/"), log: d.Log, now: d.Now,
		maxAttempts: d.MaxAttempts, afterSend: d.AfterSend,
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(s.work))
	jc, err := jobs.New(d.DB, jobs.Config{
		Workers: workers, Log: d.Log, FetchPollInterval: d.JobPoll, JobTimeout: d.JobTimeout,
		RetryPolicy: jobs.Backoff{Base: d.RetryBase, Max: maxRetryDelay}, MaxAttempts: d.MaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("notification: %w", err)
	}
	s.jobs = jc
	return s, nil
}

// Mount registers the Connect handlers on mux. MailboxService is mounted
// only when the dev mailbox is in use.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(notificationv1connect.NewNotificationServiceHandler(s, opts...))
	mux.Handle(notificationv1connect.NewTemplateServiceHandler(s, opts...))
	mux.Handle(notificationv1connect.NewDeliveryServiceHandler(s, opts...))
	mux.Handle(notificationv1connect.NewPreferenceServiceHandler(s, opts...))
	if s.box != nil {
		mux.Handle(notificationv1connect.NewMailboxServiceHandler(s, opts...))
	}
}

// Start works deliveries in the background until Stop (or the end of ctx).
func (s *Service) Start(ctx context.Context) error { return s.jobs.Start(ctx) }

// Stop stops taking deliveries and waits for running ones, or for ctx.
func (s *Service) Stop(ctx context.Context) error { return s.jobs.Stop(ctx) }

// class is whether a kind of message may be refused by the shopper.
type class int

const (
	transactional class = iota // always sent (account links, order updates)
	marketing                  // sent only with the shopper's opt-in
)

// classOf is the class of a kind. Every kind the API has today is
// transactional; a marketing kind (a newsletter, a back-in-stock alert)
// goes here as marketing, and the opt-in checks below apply to it.
func classOf(notificationv1.EventKind) class { return transactional }

// smsKinds are the kinds also sent by SMS: shipping updates, which a
// shopper can turn off (sms_shipping_updates).
func smsKind(k notificationv1.EventKind) bool {
	return k == notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED || k == notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED
}

// wants reports whether the shopper's preferences let a message of kind go
// by ch.
func wants(kind notificationv1.EventKind, ch int32, p *preferencesRow) bool {
	switch {
	case classOf(kind) == marketing && ch == channelEmail:
		return p.EmailMarketing
	case classOf(kind) == marketing && ch == channelSMS:
		return p.SMSMarketing
	case ch == channelSMS:
		return smsKind(kind) && p.SMSShippingUpdates
	}
	return true // transactional email always goes
}

// Notify implements NotificationService.
func (s *Service) Notify(ctx context.Context, req *notificationv1.NotifyRequest) (*notificationv1.NotifyResponse, error) {
	if err := checkSubject(req); err != nil {
		return nil, err
	}
	// A repeated event answers from what the first made, without asking
	// the user service again.
	if done, ids, err := s.store.handled(ctx, req.GetEventId()); err != nil || done {
		return &notificationv1.NotifyResponse{DeliveryIds: ids}, err
	}
	contact, err := s.contact(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	prefs, err := s.store.preferences(ctx, req.GetUserId(), contact)
	if err != nil {
		return nil, err
	}
	planned, err := s.plan(ctx, req, contact, prefs)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		first, err := jobs.Once(ctx, tx, "notification.notify", req.GetEventId())
		if err != nil {
			return err
		}
		if !first { // a concurrent Notify of the same event committed first
			_, ids, err = s.store.handledTx(ctx, tx, req.GetEventId())
			return err
		}
		for _, d := range planned {
			if err := s.store.insertDelivery(ctx, tx, d); err != nil {
				return err
			}
			if err := s.jobs.InsertTx(ctx, tx, deliverArgs{DeliveryID: d.ID}, nil); err != nil {
				return err
			}
			ids = append(ids, d.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &notificationv1.NotifyResponse{DeliveryIds: ids}, nil
}

// checkSubject checks that an event carries what its kind needs.
func checkSubject(req *notificationv1.NotifyRequest) error {
	switch req.GetKind() {
	case notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION, notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET:
		if req.GetLink() == nil {
			return errs.Invalidf("link: %s needs the account link", req.GetKind())
		}
	case notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED, notificationv1.EventKind_EVENT_KIND_ORDER_CANCELED,
		notificationv1.EventKind_EVENT_KIND_ORDER_REFUNDED:
		if req.GetOrder() == nil || req.GetOrder().GetNumber() == "" {
			return errs.Invalidf("order: %s needs the order, with its number", req.GetKind())
		}
	case notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED, notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED:
		if req.GetShipment() == nil {
			return errs.Invalidf("shipment: %s needs the shipment", req.GetKind())
		}
	}
	return nil
}

// contact looks the shopper up. A shopper the user service does not know
// (an account deleted since) gets nothing: the zero contact.
func (s *Service) contact(ctx context.Context, userID string) (*userv1.Contact, error) {
	res, err := s.users.GetContact(ctx, &userv1.GetContactRequest{UserId: userID})
	switch {
	case err == nil:
		return res.GetContact(), nil
	case connect.CodeOf(err) == connect.CodeNotFound:
		s.log.WarnContext(ctx, "notification for an unknown user; nothing to send", "user_id", userID)
		return &userv1.Contact{UserId: userID}, nil
	}
	return nil, &errs.Error{Kind: errs.Unavailable, Message: "the user service cannot be reached; try again", Err: err}
}

// plan renders the deliveries an event causes, one per channel the
// shopper can be reached by and allows.
func (s *Service) plan(ctx context.Context, req *notificationv1.NotifyRequest, c *userv1.Contact, prefs *preferencesRow) ([]*deliveryRow, error) {
	kind := req.GetKind()
	email := c.GetEmail()
	if l := req.GetLink(); l != nil {
		email = l.GetEmail() // the address being verified may not be the account's yet
	}
	if c.GetStatus() == userv1.UserStatus_USER_STATUS_DISABLED && classOf(kind) == marketing {
		return nil, nil
	}
	phone := normPhone(c.GetPhone())
	if phone == "" {
		phone = normPhone(req.GetShipment().GetPhone())
	}
	type target struct {
		ch int32
		to string
	}
	var targets []target
	if email != "" && wants(kind, channelEmail, prefs) {
		targets = append(targets, target{channelEmail, email})
	}
	if s.sms != nil && phone != "" && wants(kind, channelSMS, prefs) {
		targets = append(targets, target{channelSMS, phone})
	}
	if len(targets) == 0 {
		return nil, nil
	}
	locale := normLocale(c.GetLocale())
	if locale == "" {
		locale = defaultLocale
	}
	msg, version, err := s.renderEvent(ctx, req, c, locale)
	if err != nil {
		return nil, err
	}
	now := micros(s.now())
	var out []*deliveryRow
	for _, t := range targets {
		d := &deliveryRow{
			ID: newID(), EventID: req.GetEventId(), Kind: int32(kind), Channel: t.ch, UserID: req.GetUserId(),
			Recipient: t.to, Locale: locale, TemplateVersion: version, Status: statusPending,
			CreatedAt: now, UpdatedAt: now,
		}
		if t.ch == channelEmail {
			d.Subject, d.HTML, d.Text = msg.Subject, msg.HTML, msg.Text
		} else {
			d.Text = msg.SMS
		}
		out = append(out, d)
	}
	return out, nil
}

// renderEvent renders the event with the template in use for its kind and
// locale. Should a stored template fail on real data (it passed with the
// sample data when saved), the built-in one is used instead, and the
// failure logged: the shopper still hears about their order.
func (s *Service) renderEvent(ctx context.Context, req *notificationv1.NotifyRequest, c *userv1.Contact, locale string) (*rendered, int64, error) {
	v := &View{
		Shop: shopName, Name: c.GetDisplayName(), Email: c.GetEmail(),
		Link: linkView(req.GetLink()), Order: orderView(req.GetOrder(), s.publicURL), Shipment: shipmentView(req.GetShipment()),
	}
	if v.Email == "" && req.GetLink() != nil {
		v.Email = req.GetLink().GetEmail()
	}
	src, err := s.store.current(ctx, req.GetKind(), locale)
	if err != nil {
		return nil, 0, err
	}
	out, err := renderSource(src, v)
	if err != nil && src.Version != 0 {
		s.log.ErrorContext(ctx, "stored template failed on an event; using the built-in one",
			"kind", req.GetKind().String(), "locale", src.Locale, "version", src.Version, "err", err)
		if src, err = builtin(req.GetKind()); err == nil {
			out, err = renderSource(src, v)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("render %s: %w", req.GetKind(), err)
	}
	return out, src.Version, nil
}

func renderSource(src *source, v *View) (*rendered, error) {
	c, err := compile(src)
	if err != nil {
		return nil, err
	}
	return c.render(v)
}

// normPhone strips what people write around a number ("+1 (415) 555-0100"
// → "+14155550100"). A number without a country code stays as it is, and
// Twilio refuses it (the delivery goes dead, visibly).
func normPhone(p string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(p) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	if b.Len() < 3 {
		return ""
	}
	return b.String()
}
