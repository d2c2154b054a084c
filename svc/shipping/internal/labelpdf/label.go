package labelpdf

import (
	"bytes"
	"fmt"
	"image"
	"strings"
)

// Address is one party on a label, already in print order.
type Address struct {
	Name, Company, Line1, Line2, City, Region, PostalCode, Country string
}

func (a Address) lines() []string {
	var out []string
	for _, l := range []string{a.Name, a.Company, a.Line1, a.Line2} {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	last := strings.TrimSpace(strings.Join(strings.Fields(a.City+" "+a.Region+" "+a.PostalCode), " "))
	return append(out, last, a.Country)
}

// Label is what a carrier prints on a parcel.
type Label struct {
	Carrier        string // e.g. "LOCAL CARRIER"
	Service        string // e.g. "Standard"
	TrackingNumber string // letters and an even number of digits; the digits are barcoded
	Reference      string
	WeightGrams    int64
	From, To       Address
}

const (
	labelW = 4 * PointsPerInch
	labelH = 6 * PointsPerInch
	margin = 14
)

// Render draws the label on a 4×6 in page: sender, service, recipient, an
// Interleaved 2 of 5 barcode of the tracking number's digits with the number
// printed under it, and the reference.
func Render(l Label) []byte {
	p := NewPage(labelW, labelH)
	y := float64(labelH - margin - 8)
	p.Text(margin, y, 7, HelveticaBold, "FROM")
	for _, line := range l.From.lines() {
		y -= 9
		p.Text(margin, y, 8, Helvetica, line)
	}
	y -= 10
	p.Rect(margin, y, labelW-2*margin, 1.5)

	y -= 26
	p.Text(margin, y, 20, HelveticaBold, strings.ToUpper(l.Service))
	weight := fmt.Sprintf("%.2f kg", float64(l.WeightGrams)/1000)
	p.Text(labelW-margin-TextWidth(weight, 10, Helvetica), y, 10, Helvetica, weight)
	y -= 12
	p.Text(margin, y, 8, Helvetica, l.Carrier)
	y -= 8
	p.Rect(margin, y, labelW-2*margin, 1.5)

	y -= 18
	p.Text(margin, y, 8, HelveticaBold, "SHIP TO")
	y -= 4
	for _, line := range l.To.lines() {
		y -= 15
		p.Text(margin+10, y, 13, HelveticaBold, line)
	}
	y -= 12
	p.Rect(margin, y, labelW-2*margin, 1.5)

	digits := onlyDigits(l.TrackingNumber)
	const barH, module = 70.0, 1.2
	bars := ITF(digits)
	width := float64(len(bars)) * module
	x0 := (labelW - width) / 2
	y -= barH + 16
	for i, dark := range bars {
		if dark {
			p.Rect(x0+float64(i)*module, y, module, barH)
		}
	}
	y -= 16
	p.Text((labelW-TextWidth(l.TrackingNumber, 12, HelveticaBold))/2, y, 12, HelveticaBold, l.TrackingNumber)
	p.Text(margin, margin+8, 8, Helvetica, "REF: "+l.Reference)
	return p.Bytes()
}

// ImagePDF wraps a carrier's raster label into a 4×6 in PDF, turning a
// landscape image to fit the portrait page.
func ImagePDF(img image.Image) []byte {
	p := NewPage(labelW, labelH)
	b := img.Bounds()
	p.Image(img, 0, 0, labelW, labelH, b.Dx() > b.Dy())
	return p.Bytes()
}

// IsPDF reports whether b looks like a PDF document.
func IsPDF(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) }

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len()%2 == 1 {
		return "0" + b.String() // ITF encodes pairs
	}
	return b.String()
}

// itfDigits gives each digit's five elements, true for wide.
var itfDigits = [10][5]bool{
	{false, false, true, true, false}, // 0 nnwwn
	{true, false, false, false, true}, // 1 wnnnw
	{false, true, false, false, true}, // 2 nwnnw
	{true, true, false, false, false}, // 3 wwnnn
	{false, false, true, false, true}, // 4 nnwnw
	{true, false, true, false, false}, // 5 wnwnn
	{false, true, true, false, false}, // 6 nwwnn
	{false, false, false, true, true}, // 7 nnnww
	{true, false, false, true, false}, // 8 wnnwn
	{false, true, false, true, false}, // 9 nwnwn
}

// ITF encodes an even number of digits as Interleaved 2 of 5 modules (true
// is a bar), with a 3:1 wide-to-narrow ratio and ten-module quiet zones.
// It panics on other input, which is a programming error.
func ITF(digits string) []bool {
	if len(digits)%2 != 0 || strings.Trim(digits, "0123456789") != "" {
		panic("labelpdf: ITF needs an even number of digits, got " + digits)
	}
	var out []bool
	put := func(dark bool, wide bool) {
		n := 1
		if wide {
			n = 3
		}
		for range n {
			out = append(out, dark)
		}
	}
	for range 10 {
		out = append(out, false)
	}
	for _, dark := range []bool{true, false, true, false} { // start: narrow bar, space, bar, space
		put(dark, false)
	}
	for i := 0; i < len(digits); i += 2 {
		bar, space := itfDigits[digits[i]-'0'], itfDigits[digits[i+1]-'0']
		for k := range 5 {
			put(true, bar[k])
			put(false, space[k])
		}
	}
	put(true, true) // stop: wide bar, narrow space, narrow bar
	put(false, false)
	put(true, false)
	for range 10 {
		out = append(out, false)
	}
	return out
}
