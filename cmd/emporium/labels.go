package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// dirLabels keeps shipping labels as files under a directory, made on the
// first label. It is the bridge until the blob store
// (internal/platform/blob.NewDir) is merged, which replaces it one for one.
// Keys are slash paths such as "labels/<shipment id>.pdf"; os.Root keeps
// every file inside the directory.
type dirLabels struct {
	dir  string
	once sync.Once
	root *os.Root
	err  error
}

func (d *dirLabels) open() (*os.Root, error) {
	d.once.Do(func() {
		if err := os.MkdirAll(d.dir, 0o750); err != nil {
			d.err = err
			return
		}
		d.root, d.err = os.OpenRoot(d.dir)
	})
	return d.root, d.err
}

func (d *dirLabels) name(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", errs.Invalidf("label key %q is not a relative path", key)
	}
	return filepath.FromSlash(key), nil
}

func (d *dirLabels) Put(_ context.Context, key, _ string, data []byte) error {
	root, err := d.open()
	if err != nil {
		return fmt.Errorf("labels in %s: %w", d.dir, err)
	}
	name, err := d.name(key)
	if err != nil {
		return err
	}
	if err := root.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	// Write then rename, so a reader never sees half a label.
	tmp := name + ".tmp"
	if err := root.WriteFile(tmp, data, 0o640); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	if err := root.Rename(tmp, name); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}

func (d *dirLabels) Get(_ context.Context, key string) ([]byte, string, error) {
	root, err := d.open()
	if err != nil {
		return nil, "", fmt.Errorf("labels in %s: %w", d.dir, err)
	}
	name, err := d.name(key)
	if err != nil {
		return nil, "", err
	}
	data, err := root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", errs.NotFoundf("no label %q", key)
	}
	if err != nil {
		return nil, "", fmt.Errorf("labels: %w", err)
	}
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return data, ct, nil
}

func (d *dirLabels) Delete(_ context.Context, key string) error {
	root, err := d.open()
	if err != nil {
		return fmt.Errorf("labels in %s: %w", d.dir, err)
	}
	name, err := d.name(key)
	if err != nil {
		return err
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}
