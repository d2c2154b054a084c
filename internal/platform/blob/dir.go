package blob

import (
	"bytes"
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

// Dir keeps blobs as files under a directory: the blob under "a/b.pdf" is
// the file a/b.pdf, whose first line is the content type and the rest the
// data. Writes go to a temporary file in the same directory, synced, then
// renamed over the old one, so readers never see half a blob and a crash
// leaves the old blob or the new one. All file access goes through an
// os.Root, so even a symbolic link cannot lead outside the directory.
type Dir struct {
	root *os.Root
}

var _ Store = (*Dir)(nil)

// tmpPrefix marks files being written. It has '~', which keys cannot
// have, so a temporary file never shadows a blob.
const tmpPrefix = ".tmp~"

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
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(key), tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	_, err = f.Write(append([]byte(contentType+"\n"), data...))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, key)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := CheckKey(key); err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	raw, err := d.root.ReadFile(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", errs.NotFoundf("blob %q not found", key)
	case err != nil:
		if fi, serr := d.root.Stat(key); serr == nil && fi.IsDir() {
			return nil, "", errs.NotFoundf("blob %q not found", key) // a prefix of other keys
		}
		return nil, "", fmt.Errorf("blob: get %s: %w", key, err)
	}
	ct, data, ok := bytes.Cut(raw, []byte("\n"))
	if !ok || checkContentType(string(ct)) != nil {
		return nil, "", fmt.Errorf("blob: get %s: the file does not start with a content type line", key)
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
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}
