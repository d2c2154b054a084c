package labelpdf_test

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf/pdftest"
	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	t.Parallel()
	pdf := labelpdf.Render(labelpdf.Label{
		Carrier: "LOCAL CARRIER", Service: "Express", TrackingNumber: "LC1798000000123456", Reference: "sh_(01)\\x",
		WeightGrams: 1250,
		From:        labelpdf.Address{Name: "Emporium Ltd", Line1: "1 Market St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"},
		To:          labelpdf.Address{Name: "Zoë Müller", Line1: "500 Fifth Ave", Line2: "Apt 4", City: "New York", Region: "NY", PostalCode: "10110", Country: "US"},
	})
	if got := pdftest.PageSize(t, pdf); got != "288 x 432" {
		t.Errorf("page size %s pts, want 288 x 432 (4x6 in)", got)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"LC1798000000123456", "EXPRESS", "1.25 kg", "REF: sh_(01)\\x", "Zoë Müller",
		"500 Fifth Ave", "New York NY 10110", "Emporium Ltd", "San Francisco CA 94105", "LOCAL CARRIER"} {
		if !strings.Contains(text, want) {
			t.Errorf("label text lacks %q:\n%s", want, text)
		}
	}
}

func TestImagePDF(t *testing.T) {
	t.Parallel()
	img := image.NewPaletted(image.Rect(0, 0, 140, 80), color.Palette{color.White, color.Black})
	for x := 10; x < 20; x++ {
		for y := range 80 {
			img.SetColorIndex(x, y, 1)
		}
	}
	pdf := labelpdf.ImagePDF(img)
	pdftest.Text(t, pdf) // parses without warnings
	if got := pdftest.PageSize(t, pdf); got != "288 x 432" {
		t.Errorf("page size %s pts, want 288 x 432", got)
	}
	if !strings.Contains(string(pdf), "/Width 140 /Height 80") {
		t.Error("the image is not embedded at its own size")
	}
}

// decodeITF reads modules back into digits, independently of the encoder's
// tables: a wide element is three modules, a narrow one one.
func decodeITF(t *testing.T, m []bool) string {
	t.Helper()
	var widths []int
	var darks []bool
	for i := 0; i < len(m); {
		j := i
		for j < len(m) && m[j] == m[i] {
			j++
		}
		widths, darks = append(widths, j-i), append(darks, m[i])
		i = j
	}
	// Drop the quiet zones, then the 4-element start and 3-element stop.
	if darks[0] || darks[len(darks)-1] || widths[0] != 10 || widths[len(widths)-1] != 10 {
		t.Fatalf("quiet zones wrong: %v", widths)
	}
	w := widths[1 : len(widths)-1]
	if !cmp.Equal(w[:4], []int{1, 1, 1, 1}) || !cmp.Equal(w[len(w)-3:], []int{3, 1, 1}) {
		t.Fatalf("start/stop wrong: %v", w)
	}
	w = w[4 : len(w)-3]
	weights := []int{1, 2, 4, 7, 0} // the 2 of 5 weights; 4+7 reads as 0
	var out strings.Builder
	for k := 0; k+10 <= len(w); k += 10 {
		for _, off := range []int{0, 1} {
			sum, wide := 0, 0
			for e := range 5 {
				if w[k+2*e+off] == 3 {
					sum += weights[e]
					wide++
				}
			}
			if wide != 2 {
				t.Fatalf("a character has %d wide elements", wide)
			}
			if sum == 11 {
				sum = 0
			}
			out.WriteByte(byte('0' + sum))
		}
	}
	return out.String()
}

func TestITFRoundTrip(t *testing.T) {
	t.Parallel()
	for _, digits := range []string{"00", "0123456789", "179800000012345678"} {
		if got := decodeITF(t, labelpdf.ITF(digits)); got != digits {
			t.Errorf("ITF(%s) decodes as %s", digits, got)
		}
	}
}
