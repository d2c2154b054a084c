package product

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/product/search"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// sync follows a committed write of rows: it empties the read cache and
// brings the search index in line at once, so this process shows the change
// in searches without waiting for the outbox. The write's outbox jobs (see
// queueIndex) do the same again and retry until the index takes it, so a
// failure here is only logged.
func (s *Service) sync(ctx context.Context, rows ...*productRow) {
	s.cache.invalidate(ctx)
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if err := s.indexProducts(ctx, ids...); err != nil {
		s.log.WarnContext(ctx, "search index update deferred to the outbox", "err", err)
	}
}

// documents splits rows into documents to index (active products) and ids
// to remove (all others).
func (s *Service) documents(ctx context.Context, rows []*productRow) (docs []search.Document, gone []string, err error) {
	names, err := s.store.categoryNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		if r.Status == active {
			docs = append(docs, document(r, names[r.Category]))
		} else {
			gone = append(gone, r.ID)
		}
	}
	return docs, gone, nil
}

func document(r *productRow, categoryName string) search.Document {
	attrs := make([]string, 0, len(r.Attributes))
	for _, v := range r.Attributes {
		attrs = append(attrs, v)
	}
	slices.Sort(attrs)
	inStock := false
	for _, v := range r.Variants {
		inStock = inStock || v.Stock > 0
	}
	return search.Document{
		ID:           r.ID,
		Slug:         r.Slug,
		Title:        r.Title,
		Description:  r.Description,
		Brand:        r.Brand,
		Category:     r.Category,
		CategoryName: categoryName,
		Attributes:   strings.Join(attrs, " "),
		Price:        r.Price,
		InStock:      inStock,
		Created:      time.UnixMicro(r.CreatedAt),
		Version:      r.IndexVersion,
	}
}

// Progress reports how far a long operation is: done of total.
type Progress func(done, total int)

// Reindex rebuilds the search index from the database, reporting progress.
//
// An index that can rebuild itself aside (search.Rebuilder: Elasticsearch)
// is built anew from every active product and swapped in at once: searches
// see the old index until the swap, with no gap and no half-built state,
// and reset does not matter. Otherwise (Bleve) every product is indexed or
// removed in place, in batches; with reset the index is emptied first
// (searches see fewer results until it ends), without it searches keep
// working throughout.
func (s *Service) Reindex(ctx context.Context, reset bool, progress Progress) error {
	if rb, ok := s.index.(search.Rebuilder); ok {
		return rb.Rebuild(ctx, func(put func(...search.Document) error) error {
			return s.eachBatch(ctx, progress, func(docs []search.Document, _ []search.Deletion) error {
				return put(docs...)
			})
		})
	}
	if reset {
		if err := s.index.Reset(ctx); err != nil {
			return fmt.Errorf("reset index: %w", err)
		}
	}
	err := s.eachBatch(ctx, progress, func(docs []search.Document, gone []search.Deletion) error {
		if err := s.index.Index(ctx, docs...); err != nil {
			return fmt.Errorf("index products: %w", err)
		}
		return s.remove(ctx, gone)
	})
	if err != nil {
		return err
	}
	s.compact(ctx)
	return nil
}

// compact merges the index's pieces after a bulk load, where the index
// can (search.Compacter). Searches are right either way, only slower
// without it, so a failure is logged, not returned.
func (s *Service) compact(ctx context.Context) {
	c, ok := s.index.(search.Compacter)
	if !ok {
		return
	}
	if err := c.Compact(ctx); err != nil {
		s.log.WarnContext(ctx, "search index not compacted; searches stay slower until it is", "err", err)
	}
}

// reindexBatch is how many products a reindex reads and indexes at a time.
// Bigger batches mean fewer, larger index segments to write and merge, and
// fewer waits for the index to reach the disk (Bleve syncs every batch):
// 1,000 products are about 1.5 MB of text.
const reindexBatch = 1000

// eachBatch reads every product, in batches, and hands f the documents of
// the active ones and the deletions of the others. Reading runs one batch
// ahead of f, in its own goroutine, so that the database and the index
// work at the same time (on two cores, about half the time of one after
// the other).
func (s *Service) eachBatch(ctx context.Context, progress Progress, f func([]search.Document, []search.Deletion) error) error {
	n, err := s.store.countProducts(ctx)
	if err != nil {
		return fmt.Errorf("count products: %w", err)
	}
	total := int(n)
	names, err := s.store.categoryNames(ctx)
	if err != nil {
		return err
	}
	type batch struct {
		docs []search.Document
		gone []search.Deletion
		rows int
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 1) // one read ahead
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		after := ""
		for {
			rows, err := s.store.productsInIDOrder(ctx, after, reindexBatch)
			if err != nil || len(rows) == 0 {
				read <- err
				return
			}
			var b batch
			b.rows = len(rows)
			for _, r := range rows {
				if r.Status == active {
					b.docs = append(b.docs, document(r, names[r.Category]))
				} else {
					b.gone = append(b.gone, search.Deletion{ID: r.ID, Version: r.IndexVersion})
				}
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				read <- ctx.Err()
				return
			}
			after = rows[len(rows)-1].ID
		}
	}()
	done := 0
	for b := range batches {
		if err := f(b.docs, b.gone); err != nil {
			cancel()
			for range batches { // let the reader stop
			}
			return err
		}
		done += b.rows
		if progress != nil {
			progress(done, total)
		}
	}
	return <-read
}

// indexBehind is the number of active products less the number of
// documents in the index (negative when it holds too many).
func (s *Service) indexBehind(ctx context.Context) (int64, error) {
	want, err := s.store.countActive(ctx)
	if err != nil {
		return 0, err
	}
	got, err := s.index.Count(ctx)
	if err != nil {
		return 0, err
	}
	return want - got, nil
}

// CatchUp rebuilds the search index from the database when it holds
// fewer or more documents than there are active products: an index
// removed, or replaced because an older version built it with another
// mapping (bleve.OpenCurrent), or left behind by a crash. started is called
// before a rebuild begins. Searches keep answering meanwhile, from what is
// indexed so far. Concurrent calls wait for each other, so the second finds
// the index caught up.
func (s *Service) CatchUp(ctx context.Context, started func(behind int64), progress Progress) error {
	s.catchingUp.Lock()
	defer s.catchingUp.Unlock()
	behind, err := s.indexBehind(ctx)
	if err != nil || behind == 0 {
		return err
	}
	if started != nil {
		started(behind)
	}
	// Too many documents: ones of products no longer in the database,
	// which only emptying the index removes.
	return s.Reindex(ctx, behind < 0, progress)
}

// CountProducts is the number of products in any state.
func (s *Service) CountProducts(ctx context.Context) (int64, error) {
	return s.store.countProducts(ctx)
}

// Seed loads a catalog: categories are created or updated, products whose
// slug already exists are left alone, so seeding twice adds nothing. Stock
// comes from the catalog's variants. New products are indexed.
func (s *Service) Seed(ctx context.Context, c seed.Catalog, progress Progress) (created int, err error) {
	cats := make([]categoryRow, len(c.Categories))
	for i, cat := range c.Categories {
		cats[i] = categoryRow{Slug: cat.Slug, Name: cat.Name, Description: cat.Description, Position: i}
	}
	if err := s.store.upsertCategories(ctx, cats); err != nil {
		return 0, err
	}
	// Each product is written with its index job, as any write is; the seed
	// then indexes its products itself, a batch at a time, and drops the
	// jobs of a batch the index took (settleIndexJobs). A batch the index
	// refused keeps its jobs, which retry.
	var queued []int64 // the jobs of the product being written
	st := &store{db: s.store.db, changed: func(ctx context.Context, tx bun.Tx, ids ...string) error {
		var err error
		queued, err = s.queueIndexJobs(ctx, tx, ids...)
		return err
	}}
	var fresh []string
	var jobIDs []int64
	flush := func() {
		if len(fresh) == 0 {
			return
		}
		s.cache.invalidate(ctx)
		if err := s.indexProducts(ctx, fresh...); err != nil {
			s.log.WarnContext(ctx, "search index update deferred to the outbox", "err", err)
		} else if err := s.settleIndexJobs(ctx, jobIDs); err != nil {
			s.log.WarnContext(ctx, "the index jobs of seeded products will run again", "err", err)
		}
		fresh, jobIDs = fresh[:0], jobIDs[:0]
	}
	for i, req := range c.Products {
		row, err := s.newProductRow(req, true)
		if err != nil {
			return created, fmt.Errorf("product %q: %w", req.GetSlug(), err)
		}
		// Creation order gives the newest-first listing a stable shape.
		row.CreatedAt -= int64(len(c.Products) - i)
		row.UpdatedAt = row.CreatedAt
		queued = nil
		switch err := st.createProduct(ctx, row); {
		case errs.Is(err, errs.Conflict):
			continue
		case err != nil:
			flush()
			return created, fmt.Errorf("product %q: %w", req.GetSlug(), err)
		}
		created++
		fresh = append(fresh, row.ID)
		jobIDs = append(jobIDs, queued...) // only once committed: a rolled-back id may be reused
		if len(fresh) == seedBatch {
			flush()
		}
		if progress != nil {
			progress(i+1, len(c.Products))
		}
	}
	flush()
	if created > 0 {
		s.compact(ctx)
	}
	return created, nil
}

// seedBatch is how many seeded products are indexed at a time.
const seedBatch = 500
