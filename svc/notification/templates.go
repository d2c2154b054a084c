package notification

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
)

// builtinFiles are the default templates, in English: for each kind,
// templates/en/<name>.subject, .html, .txt and .sms.
//
//go:embed templates/en/*
var builtinFiles embed.FS

// defaultLocale is the last fallback of every locale, and the language of
// the built-in templates.
const defaultLocale = "en"

// kindNames name the event kinds in template file names.
var kindNames = map[notificationv1.EventKind]string{
	notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION: "email_verification",
	notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET:     "password_reset",
	notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED:    "order_confirmed",
	notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED:      "order_shipped",
	notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED:    "order_delivered",
	notificationv1.EventKind_EVENT_KIND_ORDER_CANCELED:     "order_canceled",
	notificationv1.EventKind_EVENT_KIND_ORDER_REFUNDED:     "order_refunded",
}

// allKinds are the event kinds in enum order.
var allKinds = []notificationv1.EventKind{
	notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION,
	notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET,
	notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED,
	notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED,
	notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED,
	notificationv1.EventKind_EVENT_KIND_ORDER_CANCELED,
	notificationv1.EventKind_EVENT_KIND_ORDER_REFUNDED,
}

// source is the text of one template version, before parsing.
type source struct {
	Kind    notificationv1.EventKind
	Locale  string
	Version int64 // 0: built in
	Subject string
	HTML    string
	Text    string
	SMS     string
	Author  string
	Created int64 // Unix µs; 0 for built-ins
}

// builtin returns the built-in template of kind.
func builtin(kind notificationv1.EventKind) (*source, error) {
	name, ok := kindNames[kind]
	if !ok {
		return nil, fmt.Errorf("no built-in template for %s", kind)
	}
	read := func(ext string) (string, error) {
		b, err := builtinFiles.ReadFile("templates/en/" + name + "." + ext)
		return string(b), err
	}
	src := &source{Kind: kind, Locale: defaultLocale}
	var err error
	for ext, dst := range map[string]*string{"subject": &src.Subject, "html": &src.HTML, "txt": &src.Text, "sms": &src.SMS} {
		if *dst, err = read(ext); err != nil {
			return nil, fmt.Errorf("built-in template %s: %w", name, err)
		}
	}
	return src, nil
}

// localeChain is the locales to try for locale, most specific first, always
// ending in the default: "fr-CA" → "fr-CA", "fr", "en". Tags are compared
// case-insensitively and stored as given by staff, so the chain is lower
// case and stored locales are lower-cased too.
func localeChain(locale string) []string {
	locale = normLocale(locale)
	var chain []string
	for locale != "" {
		chain = append(chain, locale)
		i := strings.LastIndexByte(locale, '-')
		if i < 0 {
			break
		}
		locale = locale[:i]
	}
	if len(chain) == 0 || chain[len(chain)-1] != defaultLocale {
		chain = append(chain, defaultLocale)
	}
	return chain
}

// normLocale lower-cases a BCP 47 tag and uses dashes: "fr_CA" → "fr-ca".
func normLocale(l string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(l), "_", "-"))
}

// compiled is a parsed template version, ready to render.
type compiled struct {
	src     *source
	subject *texttemplate.Template
	html    *htmltemplate.Template
	text    *texttemplate.Template
	sms     *texttemplate.Template
}

// fieldError is a template that does not parse or render; Field names the
// part ("subject", "html", "text", "sms").
type fieldError struct {
	Field string
	Err   error
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// invalid turns a template failure into the caller's invalid_argument.
func invalid(err error) error {
	if fe, ok := err.(*fieldError); ok {
		return &errs.Error{Kind: errs.Invalid, Message: "template " + fe.Error()}
	}
	return err
}

// compile parses every part of src. Subject, text and SMS are text; HTML
// is html/template, which escapes every value for where it lands (element
// text, attribute, URL) so order data cannot inject markup.
func compile(src *source) (*compiled, error) {
	c := &compiled{src: src}
	var err error
	parseText := func(field, body string) (*texttemplate.Template, error) {
		t, err := texttemplate.New(field).Option("missingkey=error").Parse(body)
		if err != nil {
			return nil, &fieldError{Field: field, Err: err}
		}
		return t, nil
	}
	if c.subject, err = parseText("subject", src.Subject); err != nil {
		return nil, err
	}
	if c.text, err = parseText("text", src.Text); err != nil {
		return nil, err
	}
	if c.sms, err = parseText("sms", src.SMS); err != nil {
		return nil, err
	}
	if c.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(src.HTML); err != nil {
		return nil, &fieldError{Field: "html", Err: err}
	}
	for field, parts := range map[string][]*parse.Tree{
		"subject": textTrees(c.subject), "text": textTrees(c.text), "sms": textTrees(c.sms), "html": htmlTrees(c.html),
	} {
		for _, t := range parts {
			if err := boundedRanges(t.Root); err != nil {
				return nil, &fieldError{Field: field, Err: err}
			}
		}
	}
	return c, nil
}

// textTrees and htmlTrees are the parse trees of a template and those it
// defines, for boundedRanges.
func textTrees(t *texttemplate.Template) []*parse.Tree {
	var out []*parse.Tree
	for _, d := range t.Templates() {
		if d.Tree != nil {
			out = append(out, d.Tree)
		}
	}
	return out
}

func htmlTrees(t *htmltemplate.Template) []*parse.Tree {
	var out []*parse.Tree
	for _, d := range t.Templates() {
		if d.Tree != nil {
			out = append(out, d.Tree)
		}
	}
	return out
}

// boundedRanges refuses a {{range}} over anything but the message's data
// (.Order.Lines, $.Shipment.Items): a range over a number, such as
// {{range 1000000000}}, would let one template edit keep the service busy
// for minutes on every message.
func boundedRanges(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := boundedRanges(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		if !overData(n.Pipe) {
			return fmt.Errorf("line %d: range goes over the message's lists only, such as .Order.Lines", n.Line)
		}
		if err := boundedRanges(n.List); err != nil {
			return err
		}
		return boundedRanges(n.ElseList)
	case *parse.IfNode:
		if err := boundedRanges(n.List); err != nil {
			return err
		}
		return boundedRanges(n.ElseList)
	case *parse.WithNode:
		if err := boundedRanges(n.List); err != nil {
			return err
		}
		return boundedRanges(n.ElseList)
	}
	return nil
}

// overData reports whether a range pipeline is one field of the data:
// .Order.Lines, or a variable's field such as $.Order.Lines.
func overData(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1
	}
	return false
}

// maxRendered caps each rendered part of a message; a template that writes
// more (a loop gone wrong) fails instead of filling memory and mailboxes.
const maxRendered = 256 << 10

var errTooLong = fmt.Errorf("renders more than %d KiB", maxRendered>>10)

// cappedBuffer is a bytes.Buffer that refuses to grow past maxRendered.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRendered {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}

// tooLong unwraps text/template's wrapping of a write error.
func tooLong(err error) error {
	if errors.Is(err, errTooLong) {
		return errTooLong
	}
	return err
}

// rendered is a message made from a template.
type rendered struct {
	Subject string
	HTML    string
	Text    string
	SMS     string
}

// render executes every part with v.
func (c *compiled) render(v *View) (*rendered, error) {
	out := &rendered{}
	var b cappedBuffer
	texts := []struct {
		field string
		t     *texttemplate.Template
		dst   *string
	}{{"subject", c.subject, &out.Subject}, {"text", c.text, &out.Text}, {"sms", c.sms, &out.SMS}}
	for _, p := range texts {
		b.Reset()
		if err := p.t.Execute(&b, v); err != nil {
			return nil, &fieldError{Field: p.field, Err: tooLong(err)}
		}
		*p.dst = b.String()
	}
	b.Reset()
	if err := c.html.Execute(&b, v); err != nil {
		return nil, &fieldError{Field: "html", Err: tooLong(err)}
	}
	out.HTML = b.String()
	// A subject is one line; SMS bodies are trimmed of the files' newlines.
	out.Subject = strings.Join(strings.Fields(out.Subject), " ")
	out.SMS = strings.TrimSpace(out.SMS)
	out.Text = strings.TrimSpace(out.Text) + "\n"
	if out.Subject == "" {
		return nil, &fieldError{Field: "subject", Err: fmt.Errorf("renders empty")}
	}
	return out, nil
}

// check parses src and renders it with the sample data of its kind: what a
// template must pass before it is stored.
func check(src *source) (*rendered, error) {
	c, err := compile(src)
	if err != nil {
		return nil, err
	}
	return c.render(sampleView(src.Kind))
}

// View is what templates see: the shopper and what the event is about.
// Money is formatted from minor units in its currency ("$1,234.50").
type View struct {
	Shop  string // the shop's name
	Name  string // the shopper's display name; empty when unknown
	Email string // the shopper's email address
	// Link is the verification or reset link (account events).
	Link *LinkView
	// Order is the order (order events, and shipment events when known).
	Order *OrderView
	// Shipment is the parcel (shipped and delivered events).
	Shipment *ShipmentView
}

// LinkView is a single-use account link.
type LinkView struct {
	URL     string
	Expires string // "2026-12-04 18:00 UTC"; empty when it does not say
}

// OrderView is an order as a shopper reads it.
type OrderView struct {
	ID           string
	Number       string
	Lines        []LineView
	Subtotal     string
	HasDiscount  bool
	DiscountCode string
	Discount     string
	Shipping     string
	Tax          string
	Total        string
	Refunded     string
	ShipTo       string // "Ada Lovelace, London"
	Reason       string // why the last change happened (e.g. the cancel reason)
	URL          string // the order's page in the shop; empty when unknown
}

// LineView is one order line.
type LineView struct {
	SKU       string
	Title     string
	Variant   string
	Quantity  int64
	UnitPrice string
	Total     string
}

// ShipmentView is one parcel.
type ShipmentView struct {
	OrderNumber    string
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
	Items          []ItemView
}

// ItemView is a line of a parcel.
type ItemView struct {
	SKU      string
	Title    string
	Quantity int64
}

// orderView makes the view of an order; publicURL, when set, gives the
// order page's address.
func orderView(o *orderv1.Order, publicURL string) *OrderView {
	if o == nil {
		return nil
	}
	cur := o.GetTotal().GetCurrency()
	v := &OrderView{
		ID: o.GetId(), Number: o.GetNumber(),
		Subtotal:     money.Format(o.GetSubtotal().GetAmount(), cur),
		HasDiscount:  o.GetDiscountTotal().GetAmount() != 0,
		DiscountCode: o.GetDiscountCode(),
		Discount:     money.Format(o.GetDiscountTotal().GetAmount(), cur),
		Shipping:     money.Format(o.GetShippingTotal().GetAmount(), cur),
		Tax:          money.Format(o.GetTaxTotal().GetAmount(), cur),
		Total:        money.Format(o.GetTotal().GetAmount(), cur),
		Refunded:     money.Format(o.GetRefundedTotal().GetAmount(), cur),
	}
	for _, l := range o.GetLines() {
		v.Lines = append(v.Lines, LineView{
			SKU: l.GetSku(), Title: l.GetTitle(), Variant: l.GetVariantTitle(), Quantity: l.GetQuantity(),
			UnitPrice: money.Format(l.GetUnitPrice().GetAmount(), cur), Total: money.Format(l.GetLineTotal().GetAmount(), cur),
		})
	}
	if a := o.GetShippingAddress(); a != nil {
		v.ShipTo = strings.Trim(strings.Join([]string{a.GetName(), a.GetCity()}, ", "), ", ")
	}
	if h := o.GetHistory(); len(h) > 0 {
		v.Reason = h[len(h)-1].GetReason()
	}
	if publicURL != "" && o.GetId() != "" {
		v.URL = publicURL + "/orders/" + o.GetId()
	}
	return v
}

func shipmentView(s *notificationv1.ShipmentNotice) *ShipmentView {
	if s == nil {
		return nil
	}
	v := &ShipmentView{
		OrderNumber: s.GetOrderNumber(), Carrier: s.GetCarrier(), Service: s.GetServiceName(),
		TrackingNumber: s.GetTrackingNumber(), TrackingURL: s.GetTrackingUrl(),
	}
	if v.OrderNumber == "" {
		v.OrderNumber = s.GetOrderId()
	}
	for _, it := range s.GetItems() {
		v.Items = append(v.Items, ItemView{SKU: it.GetSku(), Title: it.GetTitle(), Quantity: it.GetQuantity()})
	}
	return v
}

func linkView(l *notificationv1.AccountLink) *LinkView {
	if l == nil {
		return nil
	}
	v := &LinkView{URL: l.GetUrl()}
	if l.GetExpireTime() != nil {
		v.Expires = l.GetExpireTime().AsTime().UTC().Format("2006-01-02 15:04 MST")
	}
	return v
}

// sampleView is made-up data for previews and for checking edits. Every
// part is filled, so a template may use anything its kind can carry.
func sampleView(kind notificationv1.EventKind) *View {
	v := &View{Shop: shopName, Name: "Ada Lovelace", Email: "ada@example.com"}
	order := &OrderView{
		ID: "0190b3c8-0000-7000-8000-000000000001", Number: "EMP-7K2M9QX4",
		Lines: []LineView{
			{SKU: "MUG-BLUE", Title: "Enamel mug", Variant: "Blue", Quantity: 2, UnitPrice: "$12.50", Total: "$25.00"},
			{SKU: "TEE-M", Title: "Organic T-shirt", Variant: "M", Quantity: 1, UnitPrice: "$24.00", Total: "$24.00"},
		},
		Subtotal: "$49.00", HasDiscount: true, DiscountCode: "WELCOME10", Discount: "$4.90",
		Shipping: "$5.00", Tax: "$3.20", Total: "$52.30", Refunded: "$25.00",
		ShipTo: "Ada Lovelace, London", Reason: "canceled by the customer",
		URL: "https://shop.example.com/orders/0190b3c8-0000-7000-8000-000000000001",
	}
	switch kind {
	case notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION:
		v.Link = &LinkView{URL: "https://shop.example.com/verify-email?token=sample", Expires: "2026-12-04 18:00 UTC"}
	case notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET:
		v.Link = &LinkView{URL: "https://shop.example.com/reset-password?token=sample", Expires: "2026-12-03 19:00 UTC"}
	case notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED, notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED:
		v.Order = order
		v.Shipment = &ShipmentView{
			OrderNumber: order.Number, Carrier: "UPS", Service: "Ground",
			TrackingNumber: "1Z999AA10123456784", TrackingURL: "https://www.ups.com/track?tracknum=1Z999AA10123456784",
			Items: []ItemView{{SKU: "MUG-BLUE", Title: "Enamel mug", Quantity: 2}},
		}
	default:
		v.Order = order
	}
	return v
}

// shopName is how messages name the shop.
const shopName = "Emporium"
