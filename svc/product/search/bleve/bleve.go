// Package bleve is the embedded adapter of the search port: a Bleve index on
// disk, needing no server. It is the port's only adapter today, held to its
// contract suite (search/searchtest).
//
// One process at a time may hold an index directory open: Bleve keeps an
// exclusive file lock on it. Open waits briefly for that lock and then fails
// with an error wrapping ErrLocked, instead of blocking forever. Within one
// process, open an index once and share the *Index: it is safe for
// concurrent use.
package bleve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	blv "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/emporiumhq/emporium/svc/product/search"
)

var (
	_ search.Index     = (*Index)(nil)
	_ search.Compacter = (*Index)(nil)
)

// ErrLocked is wrapped by the error of Open when another process (or another
// Open in this process) holds the index directory.
var ErrLocked = errors.New("search index is locked by another user of the same path")

// ErrMappingChanged is wrapped by the error of Open when the index on disk
// was written with another mapping than this version of the code uses.
// The index is derived data: remove the directory, Open again and reindex.
var ErrMappingChanged = errors.New("search index was built with another mapping; remove it and reindex")

// ErrClosed is wrapped by the errors of calls on a closed Index.
var ErrClosed = errors.New("search index is closed")

// lockTimeout is how long Open waits for the lock of an index that another
// holder has open.
const lockTimeout = time.Second

// metaFile is the file by which Bleve marks a directory as an index.
const metaFile = "index_meta.json"

// Index is a Bleve index on disk. It implements search.Index and is safe for
// concurrent use.
type Index struct {
	path string

	// mu guards idx and analyzer: every call holds it for reading; Reset and
	// Close, which replace or drop the index, hold it for writing.
	mu       sync.RWMutex
	idx      blv.Index // nil once closed
	analyzer analysis.Analyzer
	rules    []string   // the staff's synonym rules, as stored
	synonyms synonymMap // rules by analysed query term
}

// Open opens the index at path (a directory), creating it and its parent
// directories if it does not exist. An existing empty directory is taken as
// a place to create the index; a non-empty directory that is not a Bleve
// index is refused.
func Open(path string) (*Index, error) {
	if path == "" {
		return nil, errors.New("open search index: empty path")
	}
	idx, err := openOrCreate(path)
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %w", path, err)
	}
	x := &Index{path: path}
	if err := x.attach(idx); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("open search index %s: %w", path, err)
	}
	return x, nil
}

// attach makes idx the index x works on.
func (x *Index) attach(idx blv.Index) error {
	a := idx.Mapping().AnalyzerNamed(analyzerName)
	if a == nil {
		return fmt.Errorf("analyzer %s missing from the index mapping: %w", analyzerName, ErrMappingChanged)
	}
	x.idx, x.analyzer = idx, a
	return x.loadSynonyms()
}

// openOrCreate opens the Bleve index at path or creates a new one there.
func openOrCreate(path string) (blv.Index, error) {
	_, err := os.Stat(filepath.Join(path, metaFile))
	switch {
	case err == nil:
		return openExisting(path)
	case errors.Is(err, fs.ErrNotExist):
		return create(path)
	default:
		return nil, err
	}
}

// openExisting opens an index and checks its mapping version.
func openExisting(path string) (blv.Index, error) {
	idx, err := blv.OpenUsing(path, map[string]any{"bolt_timeout": lockTimeout.String()})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("waited %s: %w", lockTimeout, ErrLocked)
		}
		return nil, err
	}
	v, err := idx.GetInternal([]byte(mappingVersionKey))
	if err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("read mapping version: %w", err)
	}
	if string(v) != mappingVersion {
		_ = idx.Close()
		return nil, fmt.Errorf("found mapping %q, want %q: %w", v, mappingVersion, ErrMappingChanged)
	}
	return idx, nil
}

// create makes a new, empty index at path.
func create(path string) (blv.Index, error) {
	// Bleve refuses to create an index in an existing directory; an empty
	// one (such as a fresh temporary directory) is fair game.
	entries, err := os.ReadDir(path)
	switch {
	case err == nil && len(entries) > 0:
		return nil, errors.New("directory exists, is not empty and holds no Bleve index")
	case err == nil:
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create parent directory: %w", err)
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	idx, err := blv.New(path, m)
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("write mapping version: %w", err)
	}
	return idx, nil
}

// OpenCurrent is Open, except that an index built with another mapping
// than this version's (ErrMappingChanged: an index written by an older
// Emporium) is replaced by an empty one with the current mapping, keeping
// the staff's synonyms; replaced says so. Documents are derived data: the
// caller indexes them again (the product service does on start).
func OpenCurrent(path string) (x *Index, replaced bool, err error) {
	x, err = Open(path)
	if !errors.Is(err, ErrMappingChanged) {
		return x, false, err
	}
	old, err := blv.OpenUsing(path, map[string]any{"bolt_timeout": lockTimeout.String()})
	if err != nil {
		return nil, false, fmt.Errorf("open search index %s to replace it: %w", path, err)
	}
	idx, err := recreate(old, path)
	if err != nil {
		return nil, false, fmt.Errorf("replace search index %s: %w", path, err)
	}
	x = &Index{path: path}
	if err := x.attach(idx); err != nil {
		_ = idx.Close()
		return nil, false, fmt.Errorf("open search index %s: %w", path, err)
	}
	return x, true, nil
}

// recreate closes old, removes its directory and creates a new, empty
// index with the current mapping at path, with old's synonyms: settings,
// not documents, they survive.
func recreate(old blv.Index, path string) (blv.Index, error) {
	synonyms, err := old.GetInternal([]byte(synonymsKey))
	if err != nil {
		_ = old.Close()
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	if err := old.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("remove %s: %w", path, err)
	}
	idx, err := create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if len(synonyms) > 0 {
		if err := idx.SetInternal([]byte(synonymsKey), synonyms); err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("keep synonyms: %w", err)
		}
	}
	return idx, nil
}

// Index adds or replaces documents by ID, in one batch.
func (x *Index) Index(ctx context.Context, docs ...search.Document) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index documents: %w", err)
	}
	if len(docs) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return fmt.Errorf("index documents: %w", ErrClosed)
	}
	b := x.idx.NewBatch()
	for i, d := range docs {
		if d.ID == "" {
			return fmt.Errorf("index documents: document %d has an empty ID", i)
		}
		if err := b.Index(d.ID, toBleve(d)); err != nil {
			return fmt.Errorf("index document %s: %w", d.ID, err)
		}
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("index %d documents: %w", len(docs), err)
	}
	return nil
}

// Delete removes documents by ID, in one batch; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete documents: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return fmt.Errorf("delete documents: %w", ErrClosed)
	}
	b := x.idx.NewBatch()
	for _, id := range ids {
		if id != "" {
			b.Delete(id)
		}
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("delete %d documents: %w", len(ids), err)
	}
	return nil
}

// Count is the number of documents.
func (x *Index) Count(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, fmt.Errorf("count documents: %w", ErrClosed)
	}
	n, err := x.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	return int64(n), nil
}

// Reset removes every document: it closes the index, removes its directory
// and creates a new, empty index at the same path. Calls made meanwhile wait.
// Should Reset fail after closing, the Index stays closed (ErrClosed) and the
// caller must Open the path again.
func (x *Index) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reset search index: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return fmt.Errorf("reset search index: %w", ErrClosed)
	}
	old := x.idx
	x.idx, x.analyzer = nil, nil // whatever happens next, the old index is gone
	idx, err := recreate(old, x.path)
	if err != nil {
		return fmt.Errorf("reset search index: %w", err)
	}
	if err := x.attach(idx); err != nil {
		_ = idx.Close()
		return fmt.Errorf("reset search index: %w", err)
	}
	return nil
}

// Compact merges the index's segments into one (search.Compacter). A
// reindex leaves a dozen or more, each searched on its own: on 100,000
// products one segment makes a typical search about 30 % cheaper. Bleve
// does the merge in the background while searches go on; Compact waits for
// it. Later writes add small segments again, which Bleve's own merge policy
// keeps in check.
func (x *Index) Compact(ctx context.Context) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return fmt.Errorf("compact search index: %w", ErrClosed)
	}
	adv, err := x.idx.Advanced()
	if err != nil {
		return fmt.Errorf("compact search index: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("compact search index: unexpected index type %T", adv)
	}
	if err := s.ForceMerge(ctx, nil); err != nil { // nil: into a single segment
		return fmt.Errorf("compact search index: %w", err)
	}
	return ctx.Err()
}

// Close closes the index, waiting for calls under way. Closing twice is not
// an error.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	err := x.idx.Close()
	x.idx, x.analyzer = nil, nil
	if err != nil {
		return fmt.Errorf("close search index %s: %w", x.path, err)
	}
	return nil
}
