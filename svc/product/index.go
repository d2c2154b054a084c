package product

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
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
	return s.eachBatch(ctx, progress, func(docs []search.Document, gone []search.Deletion) error {
		if err := s.index.Index(ctx, docs...); err != nil {
			return fmt.Errorf("index products: %w", err)
		}
		return s.remove(ctx, gone)
	})
}

// eachBatch reads every product, in batches, and hands f the documents of
// the active ones and the deletions of the others.
func (s *Service) eachBatch(ctx context.Context, progress Progress, f func([]search.Document, []search.Deletion) error) error {
	n, err := s.store.countProducts(ctx)
	if err != nil {
		return fmt.Errorf("count products: %w", err)
	}
	total := int(n)
	const batch = 200
	q := listFilter{IncludeInactive: true, Sort: productv1.ProductSort_PRODUCT_SORT_NEWEST, Limit: batch}
	done := 0
	for {
		rows, err := s.store.listProducts(ctx, q)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		docs, inactive, err := s.documents(ctx, rows)
		if err != nil {
			return err
		}
		byID := make(map[string]*productRow, len(rows))
		for _, r := range rows {
			byID[r.ID] = r
		}
		gone := make([]search.Deletion, len(inactive))
		for i, id := range inactive {
			gone[i] = search.Deletion{ID: id, Version: byID[id].IndexVersion}
		}
		if err := f(docs, gone); err != nil {
			return err
		}
		done += len(rows)
		if progress != nil {
			progress(done, total)
		}
		q.After = cursorAfter(rows[len(rows)-1], q.Sort, 0)
	}
	return nil
}

// IndexInSync reports whether the index holds as many documents as there are
// active products: a cheap check to run at startup.
func (s *Service) IndexInSync(ctx context.Context) (bool, error) {
	want, err := s.store.countActive(ctx)
	if err != nil {
		return false, err
	}
	got, err := s.index.Count(ctx)
	if err != nil {
		return false, err
	}
	return want == got, nil
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
	var fresh []*productRow
	for i, req := range c.Products {
		row, err := s.newProductRow(req, true)
		if err != nil {
			return created, fmt.Errorf("product %q: %w", req.GetSlug(), err)
		}
		// Creation order gives the newest-first listing a stable shape.
		row.CreatedAt -= int64(len(c.Products) - i)
		row.UpdatedAt = row.CreatedAt
		switch err := s.store.createProduct(ctx, row); {
		case errs.Is(err, errs.Conflict):
			continue
		case err != nil:
			return created, fmt.Errorf("product %q: %w", req.GetSlug(), err)
		}
		created++
		fresh = append(fresh, row)
		if len(fresh) == 100 {
			s.sync(ctx, fresh...)
			fresh = fresh[:0]
		}
		if progress != nil {
			progress(i+1, len(c.Products))
		}
	}
	s.sync(ctx, fresh...)
	return created, nil
}
