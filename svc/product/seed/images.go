package seed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// imagePattern is the route Images serves; the demo catalog's image URLs
	// are /media/products/<slug>.svg and /media/products/<slug>.svg?view=N.
	imagePattern = "GET /media/products/{file}"
	// imageVersion changes the ETags when the drawing changes.
	imageVersion = "v1"
	imageSize    = 800
	maxView      = 99
	maxSlugLen   = 120
	// Label layout: at most labelLines lines of at most labelLineLen characters.
	labelLines   = 4
	labelLineLen = 24
)

// Images serves the demo catalog's pictures: GET (and HEAD)
// /media/products/{name}.svg with an optional ?view=N (1–99), an 800×800 SVG
// drawn from the name and the view alone, so the demo needs no image files.
// The same URL always gives the same bytes, with a strong ETag (answering a
// matching If-None-Match with 304) and a day of public caching. A name that is
// not a product slug (lower-case letters, digits and single dashes), a missing
// ".svg" or a bad view gets 404; other methods get 405.
//
// Mount it on a mux at "/media/products/": it routes on the full path.
func Images() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(imagePattern, serveImage)
	return mux
}

func serveImage(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok || !validSlug(name) {
		http.NotFound(w, r)
		return
	}
	view := 1
	if v := r.URL.Query().Get("view"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxView {
			http.NotFound(w, r)
			return
		}
		view = n
	}

	etag := imageETag(name, view)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=86400")
	if etagMatches(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	body := renderSVG(name, view)
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	// The drawing has no scripts or links; if someone opens it as a page,
	// let it do nothing but draw.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// validSlug reports whether s matches ^[a-z0-9]+(-[a-z0-9]+)*$ and is at most
// 120 bytes, like a product slug.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlugLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

func imageHash(name string, view int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", imageVersion, name, view)
	return h.Sum64()
}

func imageETag(name string, view int) string {
	return fmt.Sprintf(`"%016x"`, imageHash(name, view))
}

// etagMatches applies If-None-Match (RFC 9110 §13.1.2): "*" or any listed tag
// equal to etag under weak comparison.
func etagMatches(headers []string, etag string) bool {
	for _, h := range headers {
		for _, t := range strings.Split(h, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// renderSVG draws the placeholder for a product: a background colour from a
// hash of the name, a motif chosen by the name and the view, and the name as
// words. Every piece of the name is XML-escaped, whatever it holds.
func renderSVG(name string, view int) []byte {
	nameHash := imageHash(name, 0) // the same colours in every view
	hue := int(nameHash % 360)
	bg := hsl(hue, 0.42, 0.87)
	accent := hsl((hue+(view-1)*47)%360, 0.48, 0.56)
	soft := hsl((hue+180)%360, 0.30, 0.74)
	motif := int((nameHash>>16)%5+uint64(view-1)) % 5
	label := labelText(name)

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="`,
		imageSize, imageSize, imageSize, imageSize)
	escape(&b, label)
	b.WriteString(`">` + "\n<title>")
	escape(&b, label)
	b.WriteString("</title>\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="%s"/>`+"\n", imageSize, imageSize, bg)
	drawMotif(&b, motif, view, nameHash, accent, soft)

	lines := wrapLabel(label)
	lineHeight := 54
	panelH := len(lines)*lineHeight + 44
	panelY := 744 - panelH
	fmt.Fprintf(&b, `<rect x="56" y="%d" width="688" height="%d" rx="24" fill="#ffffff" fill-opacity="0.88"/>`+"\n", panelY, panelH)
	fmt.Fprintf(&b, `<text x="400" y="%d" text-anchor="middle" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="44" font-weight="600" fill="#1f2933">`,
		panelY+22)
	for _, l := range lines {
		fmt.Fprintf(&b, `<tspan x="400" dy="%d">`, lineHeight)
		escape(&b, l)
		b.WriteString("</tspan>")
	}
	b.WriteString("</text>\n")
	if view > 1 {
		fmt.Fprintf(&b, `<text x="744" y="84" text-anchor="end" font-family="system-ui, sans-serif" font-size="26" fill="#1f2933" fill-opacity="0.7">view %d</text>`+"\n", view)
	}
	b.WriteString(`<text x="56" y="84" font-family="system-ui, sans-serif" font-size="24" letter-spacing="6" fill="#1f2933" fill-opacity="0.7">EMPORIUM</text>` + "\n")
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func drawMotif(b *bytes.Buffer, motif, view int, h uint64, accent, soft string) {
	switch motif {
	case 0: // concentric circles
		for i, r := range []int{270, 200, 130, 60} {
			fill := accent
			if i%2 == 1 {
				fill = soft
			}
			fmt.Fprintf(b, `<circle cx="400" cy="330" r="%d" fill="%s" fill-opacity="0.55"/>`+"\n", r, fill)
		}
	case 1: // diagonal stripes
		angle := 20 + int((h>>24)%50) + view*15
		fmt.Fprintf(b, `<g transform="rotate(%d 400 400)" fill="%s" fill-opacity="0.45">`, angle, accent)
		for x := -400; x < 1200; x += 90 {
			fmt.Fprintf(b, `<rect x="%d" y="-400" width="40" height="1600"/>`, x)
		}
		b.WriteString("</g>\n")
	case 2: // a grid of dots, some larger
		for row := range 6 {
			for col := range 7 {
				r := 14
				if (h>>uint((row*7+col)%60))&1 == 1 {
					r = 26
				}
				fill := accent
				if (row+col+view)%3 == 0 {
					fill = soft
				}
				fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="%d" fill="%s" fill-opacity="0.6"/>`, 100+col*100, 120+row*80, r, fill)
			}
			b.WriteString("\n")
		}
	case 3: // hills under a sun
		sunX := 160 + int((h>>20)%480)
		fmt.Fprintf(b, `<circle cx="%d" cy="200" r="80" fill="%s" fill-opacity="0.8"/>`+"\n", sunX, soft)
		fmt.Fprintf(b, `<polygon points="0,600 240,260 480,600" fill="%s" fill-opacity="0.55"/>`+"\n", accent)
		fmt.Fprintf(b, `<polygon points="260,600 540,200 800,560 800,600" fill="%s" fill-opacity="0.75"/>`+"\n", accent)
	default: // nested diamonds
		for i, s := range []int{300, 220, 140, 60} {
			fill := accent
			if i%2 == 1 {
				fill = soft
			}
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" transform="rotate(45 400 340)" fill="%s" fill-opacity="0.5"/>`+"\n",
				400-s/2, 340-s/2, s, s, fill)
		}
	}
}

// labelText turns a slug into words: "alder-pine-chefs-knife" → "Alder Pine
// Chefs Knife".
func labelText(name string) string {
	words := strings.FieldsFunc(name, func(c rune) bool { return c == '-' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		if r >= 'a' && r <= 'z' {
			words[i] = string(r-'a'+'A') + w[n:]
		}
	}
	return strings.Join(words, " ")
}

// wrapLabel breaks the label into at most labelLines lines of about
// labelLineLen characters, ending with "…" if it had to cut.
func wrapLabel(label string) []string {
	var lines []string
	var cur []rune
	for _, w := range strings.Fields(label) {
		word := []rune(w)
		for len(word) > labelLineLen { // a very long word: hard break
			if len(cur) > 0 {
				lines, cur = append(lines, string(cur)), nil
			}
			lines, word = append(lines, string(word[:labelLineLen])), word[labelLineLen:]
		}
		switch {
		case len(cur) == 0:
			cur = word
		case len(cur)+1+len(word) <= labelLineLen:
			cur = append(append(cur, ' '), word...)
		default:
			lines, cur = append(lines, string(cur)), word
		}
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	if len(lines) > labelLines {
		last := []rune(lines[labelLines-1])
		if len(last) >= labelLineLen {
			last = last[:labelLineLen-1]
		}
		lines = append(lines[:labelLines-1], string(last)+"…")
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// escape writes s as XML character data, safe in text and in attributes.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer never fails
}

// hsl returns a CSS hex colour for hue in degrees and saturation and lightness
// in [0, 1].
func hsl(hue int, s, l float64) string {
	c := (1 - math.Abs(2*l-1)) * s
	hp := float64(hue%360) / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch int(hp) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) int { return int(math.Round((v + m) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", to(r), to(g), to(b))
}
