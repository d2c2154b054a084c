package blob

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// storeTargets are the adapters the contract suite runs against.
func storeTargets(t *testing.T) map[string]Store {
	t.Helper()
	d, err := NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	_, endpoint := startFakeS3(t, time.Now)
	s3, err := NewS3(S3Config{Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", Credentials: static("AKIAFAKE", "fake/secret+key")})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"dir": d, "s3": s3}
}

func TestStoreContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, s := range storeTargets(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("put get replace delete", func(t *testing.T) {
				t.Parallel()
				key := "labels/2026/12/sh_1.pdf"
				if _, _, err := s.Get(ctx, key); !errs.Is(err, errs.NotFound) {
					t.Fatalf("Get before Put: %v, want NotFound", err)
				}
				pdf := []byte("%PDF-1.4\n\x00\xff binary\nline two")
				if err := s.Put(ctx, key, "application/pdf", pdf); err != nil {
					t.Fatal(err)
				}
				got, ct, err := s.Get(ctx, key)
				if err != nil || !bytes.Equal(got, pdf) || ct != "application/pdf" {
					t.Fatalf("Get = %q, %q, %v; want the PDF back", got, ct, err)
				}
				if err := s.Put(ctx, key, "image/gif", []byte("GIF89a")); err != nil {
					t.Fatal(err)
				}
				got, ct, err = s.Get(ctx, key)
				if err != nil || string(got) != "GIF89a" || ct != "image/gif" {
					t.Fatalf("Get after replace = %q, %q, %v", got, ct, err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Get(ctx, key); !errs.Is(err, errs.NotFound) {
					t.Fatalf("Get after Delete: %v, want NotFound", err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Fatalf("second Delete: %v, want nil", err)
				}
			})
			t.Run("empty blob", func(t *testing.T) {
				t.Parallel()
				if err := s.Put(ctx, "empty", "text/plain", nil); err != nil {
					t.Fatal(err)
				}
				got, ct, err := s.Get(ctx, "empty")
				if err != nil || len(got) != 0 || ct != "text/plain" {
					t.Fatalf("Get = %q, %q, %v", got, ct, err)
				}
			})
			t.Run("a prefix is not a blob", func(t *testing.T) {
				t.Parallel()
				if err := s.Put(ctx, "prefix/child", "text/plain", []byte("x")); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Get(ctx, "prefix"); !errs.Is(err, errs.NotFound) {
					t.Errorf("Get(prefix) = %v, want NotFound", err)
				}
				if err := s.Delete(ctx, "prefix"); err != nil {
					t.Errorf("Delete(prefix) = %v", err)
				}
				if _, _, err := s.Get(ctx, "prefix/child"); err != nil {
					t.Errorf("child lost: %v", err)
				}
			})
			t.Run("bad keys", func(t *testing.T) {
				t.Parallel()
				for _, key := range []string{"", "/abs", "a//b", "a/", "../escape", "a/../../b", ".", "a/./b",
					`a\b`, "a b", "é", "a\x00b", string(make([]byte, MaxKeyLen+1))} {
					if err := s.Put(ctx, key, "text/plain", []byte("x")); !errs.Is(err, errs.Invalid) {
						t.Errorf("Put(%q) = %v, want Invalid", key, err)
					}
					if _, _, err := s.Get(ctx, key); !errs.Is(err, errs.Invalid) {
						t.Errorf("Get(%q) = %v, want Invalid", key, err)
					}
					if err := s.Delete(ctx, key); !errs.Is(err, errs.Invalid) {
						t.Errorf("Delete(%q) = %v, want Invalid", key, err)
					}
				}
				for _, ct := range []string{"", "text/plain\nX-Evil: 1", "tëxt"} {
					if err := s.Put(ctx, "ok", ct, []byte("x")); !errs.Is(err, errs.Invalid) {
						t.Errorf("Put with content type %q = %v, want Invalid", ct, err)
					}
				}
			})
			t.Run("concurrent writers leave one whole blob", func(t *testing.T) {
				t.Parallel()
				blobs := make([][]byte, 8)
				for i := range blobs {
					blobs[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
				}
				var wg sync.WaitGroup
				for _, b := range blobs {
					wg.Go(func() {
						if err := s.Put(ctx, "race/one", "application/octet-stream", b); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				got, _, err := s.Get(ctx, "race/one")
				if err != nil {
					t.Fatal(err)
				}
				whole := false
				for _, b := range blobs {
					whole = whole || bytes.Equal(got, b)
				}
				if !whole {
					t.Errorf("blob is a mix of writes (%d bytes)", len(got))
				}
			})
		})
	}
}

func TestDirStaysInside(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := NewDir(filepath.Join(base, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A symbolic link planted inside the store must not lead out of it.
	if err := os.Symlink(outside, filepath.Join(base, "store", "link")); err != nil {
		t.Fatal(err)
	}
	if got, _, err := d.Get(context.Background(), "link"); err == nil {
		t.Fatalf("Get through a link out of the store read %q", got)
	}
	// A label is a plain PDF file, with no temporary files left behind.
	if err := d.Put(context.Background(), "a/sh_1.pdf", "application/pdf", []byte("%PDF-1.4")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(base, "store", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "sh_1.pdf" {
		t.Errorf("store/a holds %v, want just sh_1.pdf", entries)
	}
	if b, err := os.ReadFile(filepath.Join(base, "store", "a", "sh_1.pdf")); err != nil || string(b) != "%PDF-1.4" {
		t.Errorf("the file holds %q, %v; want the PDF as is", b, err)
	}
	// A file put there by other means reads with the type its name implies.
	if err := os.WriteFile(filepath.Join(base, "store", "a", "old.pdf"), []byte("%PDF-1.7"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, ct, err := d.Get(context.Background(), "a/old.pdf"); err != nil || string(b) != "%PDF-1.7" || ct != "application/pdf" {
		t.Errorf("Get(a/old.pdf) = %q, %q, %v", b, ct, err)
	}
	// Replacing a blob of an unusual type with one its name implies drops
	// the type file.
	ctx := context.Background()
	if err := d.Put(ctx, "a/x.pdf", "application/x-custom", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "a/x.pdf", "application/pdf", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "store", "a", "x.pdf"+typeSuffix)); !os.IsNotExist(err) {
		t.Errorf("stale type file: %v", err)
	}
	if err := d.Put(ctx, "a/y", "application/x-custom", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "a/y"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "store", "a", "y"+typeSuffix)); !os.IsNotExist(err) {
		t.Errorf("Delete left the type file: %v", err)
	}
}
