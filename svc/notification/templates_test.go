package notification_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

const confirmed = notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED

func frenchConfirmation(expected int64) *notificationv1.UpdateTemplateRequest {
	return &notificationv1.UpdateTemplateRequest{
		Kind: confirmed, Locale: "fr", ExpectedVersion: expected,
		Subject: "Commande {{.Order.Number}} confirmée",
		Html:    "<p>Merci {{.Name}} ! Total : {{.Order.Total}}</p>",
		Text:    "Merci {{.Name}} ! Total : {{.Order.Total}}",
		Sms:     "Commande {{.Order.Number}} : {{.Order.Total}}",
	}
}

// Staff edit templates: each edit is a version, checked before it is kept,
// previewed with sample data, and used for shoppers of that language and
// its regional variants; others fall back to English.
func TestTemplateEditsVersionsPreviewAndFallback(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		builtin, err := e.templates.GetTemplate(ctx, &notificationv1.GetTemplateRequest{Kind: confirmed, Locale: "fr-CA"})
		if err != nil {
			t.Fatal(err)
		}
		if b := builtin.GetTemplate(); !b.GetBuiltin() || b.GetVersion() != 0 || b.GetLocale() != "en" {
			t.Errorf("template before any edit: %+v, want the built-in English one", b)
		}

		v1, err := e.templates.UpdateTemplate(ctx, frenchConfirmation(0))
		if err != nil {
			t.Fatalf("UpdateTemplate: %v", err)
		}
		if v1.GetTemplate().GetVersion() != 1 || v1.GetTemplate().GetAuthor() != "staff-1" {
			t.Errorf("first edit %+v, want version 1 by staff-1", v1.GetTemplate())
		}
		// An edit based on a stale version is refused.
		if _, err := e.templates.UpdateTemplate(ctx, frenchConfirmation(0)); code(err) != connect.CodeAborted {
			t.Errorf("UpdateTemplate on a stale version: %v, want aborted", err)
		}
		second := frenchConfirmation(1)
		second.Subject = "Votre commande {{.Order.Number}} est confirmée"
		if _, err := e.templates.UpdateTemplate(ctx, second); err != nil {
			t.Fatal(err)
		}

		versions, err := e.templates.ListTemplateVersions(ctx, &notificationv1.ListTemplateVersionsRequest{Kind: confirmed, Locale: "fr", PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(versions.GetTemplates()) != 1 || versions.GetTemplates()[0].GetVersion() != 2 || versions.GetNextPageToken() == "" {
			t.Fatalf("first page of versions %+v", versions)
		}
		page2, err := e.templates.ListTemplateVersions(ctx, &notificationv1.ListTemplateVersionsRequest{
			Kind: confirmed, Locale: "fr", PageSize: 1, PageToken: versions.GetNextPageToken(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(page2.GetTemplates()) != 1 || page2.GetTemplates()[0].GetVersion() != 1 || page2.GetNextPageToken() != "" {
			t.Errorf("second page of versions %+v", page2)
		}

		// Preview of the stored version 1 and of a draft.
		prev, err := e.templates.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Kind: confirmed, Locale: "fr", Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := &notificationv1.PreviewTemplateResponse{
			Subject: "Commande EMP-7K2M9QX4 confirmée", Html: "<p>Merci Ada Lovelace ! Total : $52.30</p>",
			Text: "Merci Ada Lovelace ! Total : $52.30\n", Sms: "Commande EMP-7K2M9QX4 : $52.30",
		}
		if diff := cmp.Diff(want.String(), prev.String()); diff != "" {
			t.Errorf("preview (-want +got):\n%s", diff)
		}
		draft, err := e.templates.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{
			Kind: notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED,
			Draft: &notificationv1.TemplateDraft{
				Subject: "{{.Shipment.OrderNumber}}", Html: "<b>{{.Shipment.TrackingNumber}}</b>", Text: "t", Sms: "s",
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if draft.GetSubject() != "EMP-7K2M9QX4" || draft.GetHtml() != "<b>1Z999AA10123456784</b>" {
			t.Errorf("draft preview %+v", draft)
		}

		// Shoppers: fr-CA gets the French version 2, de falls back to English.
		fr := e.register(t, "Amélie", &userv1.User{Locale: "fr-CA"})
		de := e.register(t, "Dieter", &userv1.User{Locale: "de-DE"})
		frRes, deRes := e.confirm(t, fr, "EMP-FR1"), e.confirm(t, de, "EMP-DE1")
		frD := e.waitStatus(t, frRes.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		deD := e.waitStatus(t, deRes.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		if frD.GetSubject() != "Votre commande EMP-FR1 est confirmée" || frD.GetTemplateVersion() != 2 || frD.GetLocale() != "fr-ca" {
			t.Errorf("fr-CA delivery: subject %q, version %d, locale %q", frD.GetSubject(), frD.GetTemplateVersion(), frD.GetLocale())
		}
		if deD.GetSubject() != "Order EMP-DE1 confirmed" || deD.GetTemplateVersion() != 0 {
			t.Errorf("de-DE delivery: subject %q, version %d; want the built-in English", deD.GetSubject(), deD.GetTemplateVersion())
		}
		mails := e.smtp.To(fr.email)
		if len(mails) != 1 || mails[0].Subject() != "Votre commande EMP-FR1 est confirmée" || !strings.Contains(mails[0].Text, "Total : $1,356.27") {
			t.Errorf("French email: %+v", mails)
		}

		list, err := e.templates.ListTemplates(ctx, &notificationv1.ListTemplatesRequest{Locale: "fr-BE"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(list.GetTemplates()); n != 7 {
			t.Fatalf("%d templates, want one per event kind", n)
		}
		for _, tpl := range list.GetTemplates() {
			wantFrench := tpl.GetKind() == confirmed
			if (tpl.GetLocale() == "fr") != wantFrench {
				t.Errorf("template for %s in fr-BE: locale %q version %d", tpl.GetKind(), tpl.GetLocale(), tpl.GetVersion())
			}
		}
	})
}

// A template that does not parse or render is refused, naming the field,
// and nothing is stored.
func TestBadTemplateIsRejected(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		tests := []struct {
			name  string
			edit  func(*notificationv1.UpdateTemplateRequest)
			field string
		}{
			{"unclosed action", func(r *notificationv1.UpdateTemplateRequest) { r.Subject = "Order {{.Order.Number" }, "subject"},
			{"unknown field", func(r *notificationv1.UpdateTemplateRequest) { r.Text = "{{.Order.Secret}}" }, "text"},
			{"field of another kind", func(r *notificationv1.UpdateTemplateRequest) { r.Sms = "{{.Shipment.TrackingNumber}}" }, "sms"},
			{"broken html", func(r *notificationv1.UpdateTemplateRequest) { r.Html = "<a href=\"{{.Order.URL}}>x" }, "html"},
			{"unknown function", func(r *notificationv1.UpdateTemplateRequest) { r.Html = "{{exec .Order.Number}}" }, "html"},
			{"empty subject", func(r *notificationv1.UpdateTemplateRequest) { r.Subject = "{{if false}}x{{end}}" }, "subject"},
			{"a loop of a billion", func(r *notificationv1.UpdateTemplateRequest) { r.Text = "{{range 1000000000}}{{end}}" }, "text"},
			{"a loop over a variable", func(r *notificationv1.UpdateTemplateRequest) {
				r.Html = "{{$n := 1000000000}}{{if .Order}}{{range $n}}x{{end}}{{end}}"
			}, "html"},
			{"recursion that writes without end", func(r *notificationv1.UpdateTemplateRequest) {
				r.Sms = `{{define "a"}}{{.Order.Number}} {{template "a" .}}{{end}}{{template "a" .}}`
			}, "sms"},
		}
		for _, tc := range tests {
			req := frenchConfirmation(0)
			tc.edit(req)
			_, err := e.templates.UpdateTemplate(ctx, req)
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "template "+tc.field+":") {
				t.Errorf("%s: %v, want invalid_argument naming %s", tc.name, err, tc.field)
			}
			draft := &notificationv1.TemplateDraft{Subject: req.GetSubject(), Html: req.GetHtml(), Text: req.GetText(), Sms: req.GetSms()}
			_, err = e.templates.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Kind: confirmed, Draft: draft})
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "template "+tc.field+":") {
				t.Errorf("%s: preview: %v, want invalid_argument naming %s", tc.name, err, tc.field)
			}
		}
		versions, err := e.templates.ListTemplateVersions(ctx, &notificationv1.ListTemplateVersionsRequest{Kind: confirmed, Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(versions.GetTemplates()); n != 0 {
			t.Errorf("%d versions stored after refused edits, want none", n)
		}
		if _, err := e.templates.GetTemplate(ctx, &notificationv1.GetTemplateRequest{Kind: confirmed, Locale: "fr", Version: 1}); code(err) != connect.CodeNotFound {
			t.Errorf("GetTemplate of a version never stored: %v, want not_found", err)
		}
	})
}

// Order data is escaped in HTML: a hostile line title comes out as text.
func TestHostileOrderDataIsEscapedInHTML(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	ctx := context.Background()
	eve := e.register(t, `Eve <img src=x onerror=alert(1)>`, nil)
	o := paidOrder(eve.id, "EMP-XSS1")
	o.Lines[0].Title = `<script>alert("owned")</script>`
	o.Lines[0].VariantTitle = `"><img src=x onerror=alert(2)>`
	res, err := e.notify.Notify(ctx, &notificationv1.NotifyRequest{
		EventId: "order:xss:confirmed", Kind: confirmed, UserId: eve.id,
		Subject: &notificationv1.NotifyRequest_Order{Order: o},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, res.GetDeliveryIds()[0], notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
	m := e.smtp.To(eve.email)[0]
	for _, bad := range []string{"<script>", "<img", `"><img`} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML body contains %q unescaped:\n%s", bad, m.HTML)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(m.HTML, escaped) {
			t.Errorf("HTML body lacks %q:\n%s", escaped, m.HTML)
		}
	}
	// The text part is plain text: the title as written, which mail clients
	// never interpret.
	if !strings.Contains(m.Text, `<script>alert("owned")</script>`) {
		t.Errorf("text body lacks the title as written:\n%s", m.Text)
	}
}

// Who may call what: Notify is for services, templates and deliveries for
// staff, preferences for the signed-in shopper (their own only).
func TestAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	ctx := context.Background()
	sam := e.register(t, "Sam", nil)
	customer := servetest.Bearer("user:" + sam.id)
	staff := servetest.Bearer(staffToken)
	hc := http.DefaultClient

	custNotify := notificationv1connect.NewNotificationServiceClient(hc, e.url, customer)
	staffNotify := notificationv1connect.NewNotificationServiceClient(hc, e.url, staff)
	req := &notificationv1.NotifyRequest{EventId: "x", Kind: confirmed, UserId: sam.id,
		Subject: &notificationv1.NotifyRequest_Order{Order: paidOrder(sam.id, "EMP-ACC")}}
	if _, err := custNotify.Notify(ctx, req); code(err) != connect.CodePermissionDenied {
		t.Errorf("Notify as a customer: %v, want permission_denied", err)
	}
	if _, err := staffNotify.Notify(ctx, req); code(err) != connect.CodePermissionDenied {
		t.Errorf("Notify as staff: %v, want permission_denied", err)
	}
	custTemplates := notificationv1connect.NewTemplateServiceClient(hc, e.url, customer)
	if _, err := custTemplates.ListTemplates(ctx, &notificationv1.ListTemplatesRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("ListTemplates as a customer: %v, want permission_denied", err)
	}
	if _, err := custTemplates.UpdateTemplate(ctx, frenchConfirmation(0)); code(err) != connect.CodePermissionDenied {
		t.Errorf("UpdateTemplate as a customer: %v, want permission_denied", err)
	}
	custDeliveries := notificationv1connect.NewDeliveryServiceClient(hc, e.url, customer)
	if _, err := custDeliveries.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{UserId: sam.id}); code(err) != connect.CodePermissionDenied {
		t.Errorf("ListDeliveries as a customer, even of their own: %v, want permission_denied", err)
	}
	anonPrefs := notificationv1connect.NewPreferenceServiceClient(hc, e.url)
	if _, err := anonPrefs.GetPreferences(ctx, &notificationv1.GetPreferencesRequest{}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("GetPreferences signed out: %v, want unauthenticated", err)
	}
	servicePrefs := notificationv1connect.NewPreferenceServiceClient(hc, e.url, servetest.Bearer(serviceToken))
	if _, err := servicePrefs.GetPreferences(ctx, &notificationv1.GetPreferencesRequest{}); err == nil {
		t.Error("GetPreferences as a service succeeded: it has no preferences of its own")
	}
	// One shopper's update never touches another's.
	kai := e.register(t, "Kai", nil)
	if _, err := e.preferences(kai).UpdatePreferences(ctx, &notificationv1.UpdatePreferencesRequest{
		Preferences: &notificationv1.Preferences{SmsShippingUpdates: false}, UpdateMask: []string{"sms_shipping_updates"},
	}); err != nil {
		t.Fatal(err)
	}
	samPrefs, err := e.preferences(sam).GetPreferences(ctx, &notificationv1.GetPreferencesRequest{})
	if err != nil || !samPrefs.GetPreferences().GetSmsShippingUpdates() {
		t.Errorf("Sam's preferences after Kai's update: %+v, %v", samPrefs.GetPreferences(), err)
	}
	// MailboxService exists only with the dev mailbox.
	mb := notificationv1connect.NewMailboxServiceClient(hc, e.url, staff)
	if _, err := mb.ListMailbox(ctx, &notificationv1.ListMailboxRequest{}); code(err) != connect.CodeUnimplemented && code(err) != connect.CodeNotFound {
		t.Errorf("ListMailbox without the dev mailbox: %v, want unimplemented", err)
	}
}

// In dev, the mailbox is both channels: a newcomer sees the order
// confirmation and the shipping SMS through ListMailbox (staff only).
func TestDevMailbox(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{devMailbox: true}, func(t *testing.T, e *env) {
		ctx := context.Background()
		ana := e.register(t, "Ana", &userv1.User{Phone: "+14155550188"})
		c := e.confirm(t, ana, "EMP-DEV1")
		s := e.shipped(t, ana, "EMP-DEV1", "TRACK-DEV1")
		for _, id := range append(c.GetDeliveryIds(), s.GetDeliveryIds()...) {
			e.waitStatus(t, id, notificationv1.DeliveryStatus_DELIVERY_STATUS_SENT)
		}
		staff := notificationv1connect.NewMailboxServiceClient(http.DefaultClient, e.url, servetest.Bearer(staffToken))
		mail, err := staff.ListMailbox(ctx, &notificationv1.ListMailboxRequest{To: ana.email})
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, m := range mail.GetMessages() {
			subjects = append(subjects, m.GetSubject())
		}
		slices.Sort(subjects) // the two jobs may run in either order
		if diff := cmp.Diff([]string{"Order EMP-DEV1 confirmed", "Your order EMP-DEV1 is on its way"}, subjects); diff != "" {
			t.Errorf("emails to Ana (-want +got):\n%s", diff)
		}
		sms, err := staff.ListMailbox(ctx, &notificationv1.ListMailboxRequest{To: "+14155550188"})
		if err != nil {
			t.Fatal(err)
		}
		if len(sms.GetMessages()) != 1 || sms.GetMessages()[0].GetChannel() != notificationv1.Channel_CHANNEL_SMS ||
			!strings.Contains(sms.GetMessages()[0].GetText(), "TRACK-DEV1") {
			t.Errorf("SMS in the mailbox: %+v", sms.GetMessages())
		}
		customer := notificationv1connect.NewMailboxServiceClient(http.DefaultClient, e.url, servetest.Bearer("user:"+ana.id))
		if _, err := customer.ListMailbox(ctx, &notificationv1.ListMailboxRequest{}); code(err) != connect.CodePermissionDenied {
			t.Errorf("ListMailbox as a customer: %v, want permission_denied", err)
		}
	})
}
