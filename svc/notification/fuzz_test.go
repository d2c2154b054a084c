package notification

import (
	"testing"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
)

// FuzzTemplateCheck runs what every template edit passes through (parse,
// then render with the kind's sample data) on any source. Staff write
// templates, so a bad one must be refused quickly with an error naming its
// part, never crash the service, hang it or render without bound.
func FuzzTemplateCheck(f *testing.F) {
	for _, kind := range allKinds {
		src, err := builtin(kind)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(int32(kind), src.Subject, src.HTML, src.Text, src.SMS)
	}
	f.Add(int32(3), "{{.Order.Number", "", "", "")
	f.Add(int32(3), "x", `<a href="{{.Order.URL}}">{{range .Order.Lines}}{{.Title}}{{end}}</a>`, "{{range 10}}{{end}}", "")
	f.Add(int32(3), "x", "", "", `{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}`)
	f.Add(int32(4), "{{.Shipment.Carrier | printf \"%.9999999d\"}}", "", "", "")
	f.Add(int32(1), "{{block \"b\" .}}{{range $.Link}}{{end}}{{end}}", "<script>{{.Link.URL}}</script>", "", "")
	f.Fuzz(func(t *testing.T, kind int32, subject, html, text, sms string) {
		src := &source{Kind: notificationv1.EventKind(kind), Locale: "en", Subject: subject, HTML: html, Text: text, SMS: sms}
		r, err := check(src)
		if err != nil {
			if _, ok := err.(*fieldError); !ok {
				t.Fatalf("check refused with %T %v, want an error naming the part", err, err)
			}
			return
		}
		for part, out := range map[string]string{"subject": r.Subject, "html": r.HTML, "text": r.Text, "sms": r.SMS} {
			if len(out) > maxRendered {
				t.Fatalf("%s rendered %d bytes, past the cap of %d", part, len(out), maxRendered)
			}
		}
	})
}
