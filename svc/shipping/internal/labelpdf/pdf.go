// Package labelpdf writes the one-page PDFs of shipping labels: text in the
// standard Helvetica fonts, filled rectangles (barcodes, rules) and raster
// images (a carrier's GIF or PNG label), enough for a 4×6 in label and small
// enough to keep in one file. The output is PDF 1.4 with a correct
// cross-reference table, readable by any PDF viewer or parser.
package labelpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"strconv"
	"strings"
)

// Points per inch; PDF measures in points from the bottom-left corner.
const PointsPerInch = 72

// Page is one PDF page being drawn. Its zero value is not usable: call
// NewPage.
type Page struct {
	w, h    float64
	content bytes.Buffer
	images  []pageImage
}

type pageImage struct {
	w, h int
	rgb  []byte // w*h*3, row by row from the top
}

// NewPage starts a page of w×h points, e.g. 4×72 by 6×72 for a 4×6 in label.
func NewPage(w, h float64) *Page { return &Page{w: w, h: h} }

// Font is one of the PDF standard fonts every reader has.
type Font int

const (
	Helvetica Font = iota
	HelveticaBold
)

// Text writes s with its baseline starting at (x, y). Characters outside
// Windows-1252 (the standard fonts' encoding) print as '?'.
func (p *Page) Text(x, y, size float64, f Font, s string) {
	fmt.Fprintf(&p.content, "BT /F%d %s Tf %s %s Td (%s) Tj ET\n", f+1, num(size), num(x), num(y), escape(s))
}

// TextWidth is the width of s in points, from Helvetica's glyph widths
// (approximate: digits and capitals exact, the rest averaged).
func TextWidth(s string, size float64, f Font) float64 {
	var units float64
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			units += 556
		case r == ' ':
			units += 278
		case r >= 'A' && r <= 'Z':
			units += 667
		default:
			units += 520
		}
	}
	if f == HelveticaBold {
		units *= 1.06
	}
	return units * size / 1000
}

// Rect fills the rectangle with bottom-left corner (x, y) in black.
func (p *Page) Rect(x, y, w, h float64) {
	fmt.Fprintf(&p.content, "%s %s %s %s re f\n", num(x), num(y), num(w), num(h))
}

// Image draws img into the box with bottom-left corner (x, y), scaled to w×h.
// With rotate, the image is turned a quarter turn clockwise first (a
// landscape carrier label on a portrait page).
func (p *Page) Image(img image.Image, x, y, w, h float64, rotate bool) {
	b := img.Bounds()
	rgb := make([]byte, 0, b.Dx()*b.Dy()*3)
	for yy := b.Min.Y; yy < b.Max.Y; yy++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			r, g, bl, a := img.At(xx, yy).RGBA()
			// Composite on white: a transparent pixel prints as paper.
			bg := 0xffff - a
			rgb = append(rgb, byte((r+bg)>>8), byte((g+bg)>>8), byte((bl+bg)>>8))
		}
	}
	p.images = append(p.images, pageImage{w: b.Dx(), h: b.Dy(), rgb: rgb})
	name := fmt.Sprintf("/Im%d", len(p.images))
	if rotate {
		// Map the unit square onto the box turned clockwise: the image's top
		// edge runs down the box's right side.
		fmt.Fprintf(&p.content, "q 0 %s %s 0 %s %s cm %s Do Q\n", num(-h), num(w), num(x), num(y+h), name)
		return
	}
	fmt.Fprintf(&p.content, "q %s 0 0 %s %s %s cm %s Do Q\n", num(w), num(h), num(x), num(y), name)
}

// Bytes is the finished one-page PDF document.
func (p *Page) Bytes() []byte {
	var w pdfWriter
	w.buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// Objects: 1 catalog, 2 pages, 3 page, 4 content, 5 and 6 fonts, 7... images.
	w.object("<< /Type /Catalog /Pages 2 0 R >>")
	w.object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	var xobjects strings.Builder
	for i := range p.images {
		fmt.Fprintf(&xobjects, " /Im%d %d 0 R", i+1, 7+i)
	}
	w.object(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Contents 4 0 R "+
		"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> /XObject <<%s >> >> >>", num(p.w), num(p.h), xobjects.String()))
	w.stream("", deflate(p.content.Bytes()))
	w.object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	w.object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	for _, im := range p.images {
		w.stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 ",
			im.w, im.h), deflate(im.rgb))
	}
	return w.finish(1)
}

type pdfWriter struct {
	buf     bytes.Buffer
	offsets []int
}

func (w *pdfWriter) object(body string) {
	w.offsets = append(w.offsets, w.buf.Len())
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", len(w.offsets), body)
}

// stream writes a Flate-compressed stream object; dict is the extra
// dictionary entries.
func (w *pdfWriter) stream(dict string, data []byte) {
	w.offsets = append(w.offsets, w.buf.Len())
	fmt.Fprintf(&w.buf, "%d 0 obj\n<< %s/Length %d /Filter /FlateDecode >>\nstream\n", len(w.offsets), dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

func (w *pdfWriter) finish(root int) []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets)+1)
	for _, off := range w.offsets {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(w.offsets)+1, root, xref)
	return w.buf.Bytes()
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return out.Bytes()
}

// num formats a coordinate without exponents, as PDF requires.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// escape makes s a PDF literal string body in WinAnsiEncoding.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			// Latin-1 and Windows-1252 agree here; write the byte as an octal
			// escape so the file stays ASCII.
			fmt.Fprintf(&b, "\\%03o", r)
		case r == '€':
			b.WriteString("\\200")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
