// Package pdftest checks PDFs in tests: that the cross-reference table is
// sound and, through poppler's pdftotext, that a reader finds the expected
// text. Without pdftotext on the PATH the text check is skipped on a laptop
// and fails when the CI environment variable is set.
package pdftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

var (
	startxref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	xrefEntry = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])`)
)

// CheckStructure fails t unless pdf has a header, a trailer, and an xref
// table whose every in-use entry points at the start of its object.
func CheckStructure(t testing.TB, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) {
		t.Fatalf("no PDF header: %q", pdf[:min(len(pdf), 16)])
	}
	m := startxref.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref and end-of-file marker at the end")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at an xref table", off)
	}
	lines := bytes.Split(pdf[off:], []byte("\n"))
	var first, count int
	if _, err := fmt.Sscan(string(lines[1]), &first, &count); err != nil {
		t.Fatalf("xref subsection header %q: %v", lines[1], err)
	}
	if count < 2 {
		t.Fatalf("xref lists %d objects", count)
	}
	for i := 1; i < count; i++ {
		e := xrefEntry.FindSubmatch(lines[2+i])
		if e == nil {
			t.Fatalf("xref entry %d is malformed: %q", i, lines[2+i])
		}
		if string(e[3]) != "n" {
			continue
		}
		at, _ := strconv.Atoi(string(e[1]))
		want := strconv.Itoa(first+i) + " 0 obj"
		if at >= len(pdf) || !bytes.HasPrefix(pdf[at:], []byte(want)) {
			t.Fatalf("xref entry %d points at offset %d, which does not start %q", i, at, want)
		}
	}
}

// Text is the text pdftotext reads from pdf, in layout order.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	CheckStructure(t, pdf)
	bin := lookPoppler(t, "pdftotext")
	in := filepath.Join(t.TempDir(), "label.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-layout", in, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		// poppler reports repaired or broken files on stderr even when it
		// exits 0: a sound PDF gives no warnings.
		t.Fatalf("pdftotext: %v: %s", err, stderr.String())
	}
	return string(out)
}

// PageSize is the first page's size in points, from pdfinfo.
func PageSize(t testing.TB, pdf []byte) string {
	t.Helper()
	bin := lookPoppler(t, "pdfinfo")
	in := filepath.Join(t.TempDir(), "label.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, in).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v: %s", err, out)
	}
	m := regexp.MustCompile(`Page size:\s+(\S+ x \S+) pts`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gave no page size: %s", out)
	}
	return string(m[1])
}

func lookPoppler(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (poppler-utils) is needed to check labels in CI", name)
		}
		t.Skipf("%s (poppler-utils) is not installed; cannot read the label", name)
	}
	return bin
}
