package blob

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := Open(filepath.Join(t.TempDir(), "labels"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := dir.Put(ctx, "a", "text/plain", []byte("x")); err != nil {
		t.Errorf("directory store: %v", err)
	}

	f, endpoint := startFakeS3(t, time.Now)
	env := map[string]string{"AWS_ACCESS_KEY_ID": f.accessKey, "AWS_SECRET_ACCESS_KEY": f.secret}
	s3, err := Open("s3://labels/shop1?region=eu-west-1&endpoint="+endpoint, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.Put(ctx, "sh_1.pdf", "application/pdf", []byte("%PDF")); err != nil {
		t.Fatalf("S3 store: %v", err)
	}
	f.mu.Lock()
	_, ok := f.objects["shop1/sh_1.pdf"]
	f.mu.Unlock()
	if !ok {
		t.Errorf("objects %v, want shop1/sh_1.pdf", f.objects)
	}
	for spec, want := range map[string]string{
		"s3://labels":                                     "region",
		"s3://labels?region=x&acl=public":                 "unknown parameter",
		"s3://labels/x?region=eu-west-1&endpoint=ftp://h": "not an http(s) URL",
	} {
		if _, err := Open(spec, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want an error about %s", spec, err, want)
		}
	}
}
