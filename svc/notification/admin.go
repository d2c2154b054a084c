package notification

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// ListTemplates implements TemplateService.
func (s *Service) ListTemplates(ctx context.Context, req *notificationv1.ListTemplatesRequest) (*notificationv1.ListTemplatesResponse, error) {
	out := &notificationv1.ListTemplatesResponse{}
	for _, k := range allKinds {
		src, err := s.store.current(ctx, k, req.GetLocale())
		if err != nil {
			return nil, err
		}
		out.Templates = append(out.Templates, src.toProto())
	}
	return out, nil
}

// GetTemplate implements TemplateService.
func (s *Service) GetTemplate(ctx context.Context, req *notificationv1.GetTemplateRequest) (*notificationv1.GetTemplateResponse, error) {
	src, err := s.templateOf(ctx, req.GetKind(), req.GetLocale(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &notificationv1.GetTemplateResponse{Template: src.toProto()}, nil
}

// templateOf is a stored version of exactly kind and locale, or with
// version 0 the template in use for them.
func (s *Service) templateOf(ctx context.Context, kind notificationv1.EventKind, locale string, version int64) (*source, error) {
	if version == 0 {
		return s.store.current(ctx, kind, locale)
	}
	l := normLocale(locale)
	if l == "" {
		l = defaultLocale
	}
	return s.store.version(ctx, kind, l, version)
}

// UpdateTemplate implements TemplateService.
func (s *Service) UpdateTemplate(ctx context.Context, req *notificationv1.UpdateTemplateRequest) (*notificationv1.UpdateTemplateResponse, error) {
	src := &source{
		Kind: req.GetKind(), Locale: normLocale(req.GetLocale()),
		Subject: req.GetSubject(), HTML: req.GetHtml(), Text: req.GetText(), SMS: req.GetSms(),
		Author: subject(ctx), Created: micros(s.now()),
	}
	if _, err := check(src); err != nil {
		return nil, invalid(err)
	}
	if err := s.store.insertTemplate(ctx, src, req.GetExpectedVersion()); err != nil {
		return nil, err
	}
	return &notificationv1.UpdateTemplateResponse{Template: src.toProto()}, nil
}

// versionCursor is a position in a kind's versions, newest first.
type versionCursor struct {
	Version int64  `json:"v"`
	Filter  string `json:"f"`
}

// ListTemplateVersions implements TemplateService.
func (s *Service) ListTemplateVersions(ctx context.Context, req *notificationv1.ListTemplateVersionsRequest) (*notificationv1.ListTemplateVersionsResponse, error) {
	locale := normLocale(req.GetLocale())
	filter := fmt.Sprintf("%d:%s", req.GetKind(), locale)
	size := paging.Size(req.GetPageSize())
	var before *int64
	if tok := req.GetPageToken(); tok != "" {
		var c versionCursor
		if err := paging.Decode(tok, &c); err != nil {
			return nil, err
		}
		if c.Filter != filter {
			return nil, errs.Invalidf("page_token belongs to another kind or locale: start again without it")
		}
		before = &c.Version
	}
	rows, err := s.store.templateVersions(ctx, req.GetKind(), locale, before, size+1)
	if err != nil {
		return nil, err
	}
	out := &notificationv1.ListTemplateVersionsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		out.NextPageToken = paging.Encode(versionCursor{Version: rows[len(rows)-1].Version, Filter: filter})
	}
	for _, r := range rows {
		out.Templates = append(out.Templates, r.source().toProto())
	}
	return out, nil
}

// PreviewTemplate implements TemplateService.
func (s *Service) PreviewTemplate(ctx context.Context, req *notificationv1.PreviewTemplateRequest) (*notificationv1.PreviewTemplateResponse, error) {
	var src *source
	if d := req.GetDraft(); d != nil {
		src = &source{Kind: req.GetKind(), Subject: d.GetSubject(), HTML: d.GetHtml(), Text: d.GetText(), SMS: d.GetSms()}
	} else {
		var err error
		if src, err = s.templateOf(ctx, req.GetKind(), req.GetLocale(), req.GetVersion()); err != nil {
			return nil, err
		}
	}
	r, err := check(src)
	if err != nil {
		return nil, invalid(err)
	}
	return &notificationv1.PreviewTemplateResponse{Subject: r.Subject, Html: r.HTML, Text: r.Text, Sms: r.SMS}, nil
}

// deliveryCursor is a position in the deliveries, newest first, bound to
// the filters of the request that made it.
type deliveryCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
	Filter    string `json:"f"`
}

// ListDeliveries implements DeliveryService.
func (s *Service) ListDeliveries(ctx context.Context, req *notificationv1.ListDeliveriesRequest) (*notificationv1.ListDeliveriesResponse, error) {
	filter := fmt.Sprint(req.GetStatuses(), req.GetKinds(), req.GetUserId(), req.GetChannel(), req.GetEventId())
	size := paging.Size(req.GetPageSize())
	f := deliveryFilter{
		Statuses: req.GetStatuses(), Kinds: req.GetKinds(), UserID: req.GetUserId(),
		Channel: req.GetChannel(), EventID: req.GetEventId(), Limit: size + 1,
	}
	if tok := req.GetPageToken(); tok != "" {
		var c deliveryCursor
		if err := paging.Decode(tok, &c); err != nil {
			return nil, err
		}
		if c.Filter != filter {
			return nil, errs.Invalidf("page_token belongs to a request with other filters: start again without it")
		}
		f.After = &c
	}
	rows, err := s.store.listDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &notificationv1.ListDeliveriesResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		out.NextPageToken = paging.Encode(deliveryCursor{CreatedAt: last.CreatedAt, ID: last.ID, Filter: filter})
	}
	for _, r := range rows {
		out.Deliveries = append(out.Deliveries, r.toProto())
	}
	return out, nil
}

// GetDelivery implements DeliveryService.
func (s *Service) GetDelivery(ctx context.Context, req *notificationv1.GetDeliveryRequest) (*notificationv1.GetDeliveryResponse, error) {
	d, err := s.store.delivery(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	log, err := s.store.attempts(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	p := d.toProto()
	if isAccountKind(notificationv1.EventKind(d.Kind)) {
		// Verification and reset links sign people in: staff see that the
		// message went, not the link.
		p.Html, p.Text = redactTokens(p.GetHtml()), redactTokens(p.GetText())
	}
	for _, a := range log {
		p.AttemptsLog = append(p.AttemptsLog, a.toProto())
	}
	return &notificationv1.GetDeliveryResponse{Delivery: p}, nil
}

// RetryDelivery implements DeliveryService.
func (s *Service) RetryDelivery(ctx context.Context, req *notificationv1.RetryDeliveryRequest) (*notificationv1.RetryDeliveryResponse, error) {
	var out *deliveryRow
	who := "staff:" + subject(ctx)
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.store.lockDelivery(ctx, tx, req.GetId())
		if err != nil {
			return err
		}
		out = d
		if d.Status != statusDead {
			return errs.FailedPreconditionf("delivery %s is %s; only dead deliveries can be retried", d.ID, statusName(d.Status))
		}
		now := micros(s.now())
		d.Status, d.LastError, d.UpdatedAt = statusPending, "", now
		if err := s.store.updateDelivery(ctx, tx, d, &attemptRow{Attempt: d.Attempts, At: now, Outcome: outcomeRetried, Error: who}); err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, deliverArgs{DeliveryID: d.ID}, nil)
	})
	if err != nil {
		return nil, err
	}
	return &notificationv1.RetryDeliveryResponse{Delivery: out.toProto()}, nil
}

var tokenParam = regexp.MustCompile(`([?&]token=)[^&\s"'<>]+`)

// redactTokens hides the token of every link in s.
func redactTokens(s string) string { return tokenParam.ReplaceAllString(s, "${1}REDACTED") }

func isAccountKind(k notificationv1.EventKind) bool {
	return k == notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION || k == notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET
}

func statusName(st int32) string {
	return strings.ToLower(strings.TrimPrefix(notificationv1.DeliveryStatus(st).String(), "DELIVERY_STATUS_"))
}

// subject is the caller's user id; empty for none.
func subject(ctx context.Context) string {
	if p := authz.FromContext(ctx); p != nil {
		return p.Subject
	}
	return ""
}

// myPreferences reads the preferences of the signed-in shopper calling;
// defaults need their sign-up consent from the user service.
func (s *Service) myPreferences(ctx context.Context) (*preferencesRow, error) {
	p := authz.FromContext(ctx)
	if p == nil || p.Subject == "" || p.Has(authz.RoleService) {
		return nil, errs.Unauthenticatedf("sign in to see your notification preferences")
	}
	prefs, err := s.store.preferences(ctx, p.Subject, nil)
	if err != nil || prefs.UpdatedAt != 0 {
		return prefs, err
	}
	c, err := s.contact(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	prefs.EmailMarketing = c.GetMarketingOptIn()
	return prefs, nil
}

// GetPreferences implements PreferenceService.
func (s *Service) GetPreferences(ctx context.Context, _ *notificationv1.GetPreferencesRequest) (*notificationv1.GetPreferencesResponse, error) {
	p, err := s.myPreferences(ctx)
	if err != nil {
		return nil, err
	}
	return &notificationv1.GetPreferencesResponse{Preferences: p.toProto()}, nil
}

// UpdatePreferences implements PreferenceService.
func (s *Service) UpdatePreferences(ctx context.Context, req *notificationv1.UpdatePreferencesRequest) (*notificationv1.UpdatePreferencesResponse, error) {
	// Read outside the transaction: defaults may need the user service,
	// and on SQLite the transaction holds the only connection.
	p, err := s.myPreferences(ctx)
	if err != nil {
		return nil, err
	}
	in := req.GetPreferences()
	var columns []string
	for _, path := range req.GetUpdateMask() {
		switch path {
		case "email_marketing":
			p.EmailMarketing = in.GetEmailMarketing()
		case "sms_marketing":
			p.SMSMarketing = in.GetSmsMarketing()
		case "sms_shipping_updates":
			p.SMSShippingUpdates = in.GetSmsShippingUpdates()
		default:
			continue
		}
		columns = append(columns, path) // the mask's paths are the column names
	}
	p.UpdatedAt = micros(s.now())
	err = s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.savePreferences(ctx, tx, p, columns); err != nil {
			return err
		}
		// Answer with the row as stored, other changes made meanwhile included.
		p, err = s.store.preferencesTx(ctx, tx, p.UserID, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &notificationv1.UpdatePreferencesResponse{Preferences: p.toProto()}, nil
}

// ListMailbox implements MailboxService.
func (s *Service) ListMailbox(_ context.Context, req *notificationv1.ListMailboxRequest) (*notificationv1.ListMailboxResponse, error) {
	if s.box == nil {
		return nil, errs.FailedPreconditionf("the dev mailbox is not in use here")
	}
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = mailbox.Capacity
	}
	out := &notificationv1.ListMailboxResponse{}
	for _, m := range s.box.List() {
		if len(out.Messages) == limit {
			break
		}
		if to := req.GetTo(); to != "" && !strings.EqualFold(m.To, to) {
			continue
		}
		ch := notificationv1.Channel_CHANNEL_EMAIL
		if m.Channel == mailbox.ChannelSMS {
			ch = notificationv1.Channel_CHANNEL_SMS
		}
		out.Messages = append(out.Messages, &notificationv1.MailboxMessage{
			Id: m.ID, Channel: ch, To: m.To, Subject: m.Subject, Text: m.Text, Html: m.HTML, SentTime: timestamppb.New(m.Sent),
		})
	}
	return out, nil
}
