package notification

import (
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
)

// Delivery statuses as stored: the DeliveryStatus numbers.
const (
	statusPending  = int32(notificationv1.DeliveryStatus_DELIVERY_STATUS_PENDING)
	statusSending  = int32(notificationv1.DeliveryStatus_DELIVERY_STATUS_SENDING)
	statusSent     = int32(notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
	statusRetrying = int32(notificationv1.DeliveryStatus_DELIVERY_STATUS_RETRYING)
	statusDead     = int32(notificationv1.DeliveryStatus_DELIVERY_STATUS_DEAD)
)

// Channels as stored.
const (
	channelEmail = int32(notificationv1.Channel_CHANNEL_EMAIL)
	channelSMS   = int32(notificationv1.Channel_CHANNEL_SMS)
)

// Outcomes of the delivery log.
const (
	outcomeSent        = "sent"
	outcomeFailed      = "failed"      // transient; retried with backoff
	outcomeDead        = "dead"        // permanent, or the last attempt failed
	outcomeUnconfirmed = "unconfirmed" // the worker stopped between send and record, or the provider's answer was lost
	outcomeRetried     = "retried-by-staff"
)

type templateRow struct {
	bun.BaseModel `bun:"table:templates,alias:t"`

	Kind      int32  `bun:",pk"`
	Locale    string `bun:",pk"`
	Version   int64  `bun:",pk"`
	Subject   string
	HTML      string `bun:"html"`
	Text      string
	SMS       string `bun:"sms"`
	Author    string
	CreatedAt int64
}

func (r *templateRow) source() *source {
	return &source{
		Kind: notificationv1.EventKind(r.Kind), Locale: r.Locale, Version: r.Version,
		Subject: r.Subject, HTML: r.HTML, Text: r.Text, SMS: r.SMS, Author: r.Author, Created: r.CreatedAt,
	}
}

func (s *source) toProto() *notificationv1.Template {
	t := &notificationv1.Template{
		Kind: s.Kind, Locale: s.Locale, Version: s.Version, Subject: s.Subject, Html: s.HTML,
		Text: s.Text, Sms: s.SMS, Author: s.Author, Builtin: s.Version == 0,
	}
	if s.Created != 0 {
		t.CreateTime = ts(s.Created)
	}
	return t
}

type deliveryRow struct {
	bun.BaseModel `bun:"table:deliveries,alias:d"`

	ID              string `bun:",pk"`
	EventID         string
	Kind            int32
	Channel         int32
	UserID          string
	Recipient       string
	Locale          string
	TemplateVersion int64
	Status          int32
	Attempts        int32
	ProviderID      string
	LastError       string
	Subject         string
	HTML            string `bun:"html"`
	Text            string
	CreatedAt       int64
	UpdatedAt       int64
	SentAt          int64
}

func (d *deliveryRow) toProto() *notificationv1.Delivery {
	p := &notificationv1.Delivery{
		Id: d.ID, EventId: d.EventID, Kind: notificationv1.EventKind(d.Kind), Channel: notificationv1.Channel(d.Channel),
		UserId: d.UserID, Recipient: d.Recipient, Locale: d.Locale, TemplateVersion: d.TemplateVersion,
		Status: notificationv1.DeliveryStatus(d.Status), Attempts: d.Attempts, ProviderId: d.ProviderID,
		LastError: d.LastError, Subject: d.Subject, Html: d.HTML, Text: d.Text,
		CreateTime: ts(d.CreatedAt), UpdateTime: ts(d.UpdatedAt),
	}
	if d.SentAt != 0 {
		p.SentTime = ts(d.SentAt)
	}
	return p
}

type attemptRow struct {
	bun.BaseModel `bun:"table:delivery_attempts,alias:a"`

	ID         string `bun:",pk"`
	DeliveryID string
	Attempt    int32
	At         int64
	Outcome    string
	ProviderID string
	Error      string
}

func (a *attemptRow) toProto() *notificationv1.DeliveryAttempt {
	return &notificationv1.DeliveryAttempt{
		Attempt: a.Attempt, Time: ts(a.At), Outcome: a.Outcome, ProviderId: a.ProviderID, Error: a.Error,
	}
}

type preferencesRow struct {
	bun.BaseModel `bun:"table:preferences,alias:p"`

	UserID             string `bun:",pk"`
	EmailMarketing     bool
	SMSMarketing       bool `bun:"sms_marketing"`
	SMSShippingUpdates bool `bun:"sms_shipping_updates"`
	UpdatedAt          int64
}

func (p *preferencesRow) toProto() *notificationv1.Preferences {
	out := &notificationv1.Preferences{
		EmailMarketing: p.EmailMarketing, SmsMarketing: p.SMSMarketing, SmsShippingUpdates: p.SMSShippingUpdates,
	}
	if p.UpdatedAt != 0 {
		out.UpdateTime = ts(p.UpdatedAt)
	}
	return out
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func ts(us int64) *timestamppb.Timestamp { return timestamppb.New(time.UnixMicro(us)) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }
