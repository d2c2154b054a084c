package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

func TestDirLabelsKeepLabelsInsideTheirDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "labels")
	l := &dirLabels{dir: dir}
	if err := l.Put(ctx, "labels/s1.pdf", "application/pdf", []byte("%PDF-1.4 one")); err != nil {
		t.Fatal(err)
	}
	data, ct, err := l.Get(ctx, "labels/s1.pdf")
	if err != nil || string(data) != "%PDF-1.4 one" || ct != "application/pdf" {
		t.Errorf("Get = %q, %q, %v", data, ct, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "labels", "s1.pdf")); err != nil {
		t.Errorf("label file: %v", err)
	}
	if err := l.Delete(ctx, "labels/s1.pdf"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "labels/s1.pdf"); err != nil {
		t.Errorf("deleting a missing label: %v", err)
	}
	if _, _, err := l.Get(ctx, "labels/s1.pdf"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get after Delete: %v, want not found", err)
	}
	for _, key := range []string{"../escape.pdf", "/etc/passwd", "a/../../b.pdf", ""} {
		if err := l.Put(ctx, key, "application/pdf", []byte("x")); err == nil {
			t.Errorf("Put(%q) wrote outside the directory", key)
		}
	}
}
