package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Dir keeps blobs as plain files under a directory: the blob under
// "labels/sh_1.pdf" is the file labels/sh_1.pdf, which opens in any viewer.
// The content type goes without saying for the usual extensions (.pdf is
// application/pdf); any other is kept beside the file in "<name>~type".
//
// Writes go to a temporary file in the same directory, synced, then renamed
// over the old one, so readers never see half a blob and a crash leaves the
// old blob or the new one. (Two concurrent Puts of one key with different
// content types may leave the type of one with the data of the other.) All
// file access goes through an os.Root, so even a symbolic link cannot lead
// outside the directory.
type Dir struct {
	root *os.Root
}

var _ Store = (*Dir)(nil)

// tmpPrefix marks files being written and typeSuffix content-type files.
// Both have '~', which keys cannot have, so neither shadows a blob.
const (
	tmpPrefix  = ".tmp~"
	typeSuffix = "~type"
)

// extTypes are the content types implied by extensions, fixed here rather
// than read from the system's tables so a store reads the same everywhere.
var extTypes = map[string]string{
	".pdf": "application/pdf", ".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg",
	".json": "application/json", ".txt": "text/plain; charset=utf-8", ".zpl": "application/zpl",
}

const defaultType = "application/octet-stream"

// NewDir opens (creating it if needed, mode 0750) the directory dir as a
// blob store. Close it when done.
func NewDir(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("blob: directory is empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Dir{root: root}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

func impliedType(key string) string {
	if t, ok := extTypes[path.Ext(key)]; ok {
		return t
	}
	return defaultType
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := checkContentType(contentType); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir := path.Dir(key); dir != "." {
		if err := d.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
	}
	if contentType != impliedType(key) {
		if err := d.write(key+typeSuffix, []byte(contentType)); err != nil {
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
		if err := d.write(key, data); err != nil {
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
		return nil
	}
	if err := d.write(key, data); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := d.root.Remove(key + typeSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// write replaces name's content atomically.
func (d *Dir) write(name string, data []byte) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(name), tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, name)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
	}
	return err
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := CheckKey(key); err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	data, err := d.root.ReadFile(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", errs.NotFoundf("blob %q not found", key)
	case err != nil:
		if fi, serr := d.root.Stat(key); serr == nil && fi.IsDir() {
			return nil, "", errs.NotFoundf("blob %q not found", key) // a prefix of other keys
		}
		return nil, "", fmt.Errorf("blob: get %s: %w", key, err)
	}
	ct, err := d.root.ReadFile(key + typeSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return data, impliedType(key), nil
	case err != nil:
		return nil, "", fmt.Errorf("blob: get %s: content type: %w", key, err)
	case checkContentType(string(ct)) != nil:
		return nil, "", fmt.Errorf("blob: get %s: %s holds no content type", key, key+typeSuffix)
	}
	return data, string(ct), nil
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := d.root.Lstat(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("blob: delete %s: %w", key, err)
	case fi.IsDir():
		return nil // a prefix of other keys, not a blob
	}
	for _, name := range []string{key, key + typeSuffix} {
		if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: delete %s: %w", key, err)
		}
	}
	return nil
}
