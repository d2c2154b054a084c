package product

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// isStaff reports whether the caller may see what staff see.
func isStaff(ctx context.Context) bool {
	p := authz.FromContext(ctx)
	return p.Has(authz.RoleStaff) || p.Has(authz.RoleAdmin)
}

// actor names the caller for the stock ledger and imports: the user id or
// service name the access check verified.
func actor(ctx context.Context) string {
	if p := authz.FromContext(ctx); p != nil {
		return p.Subject
	}
	return ""
}

// CreateCategory implements ProductService.
func (s *Service) CreateCategory(ctx context.Context, req *productv1.CreateCategoryRequest) (*productv1.CreateCategoryResponse, error) {
	c := &categoryRow{Slug: req.GetSlug(), Name: strings.TrimSpace(req.GetName()), Description: req.GetDescription()}
	if c.Name == "" {
		return nil, errs.Invalidf("name is blank")
	}
	if err := s.store.createCategory(ctx, c); err != nil {
		return nil, err
	}
	return &productv1.CreateCategoryResponse{Category: c.toProto(0)}, nil
}

// UpdateCategory implements ProductService.
func (s *Service) UpdateCategory(ctx context.Context, req *productv1.UpdateCategoryRequest) (*productv1.UpdateCategoryResponse, error) {
	in := req.GetCategory()
	if in.GetSlug() == "" {
		return nil, errs.Invalidf("category.slug is required")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, errs.Invalidf("update_mask must name at least one field")
	}
	for _, p := range paths {
		switch p {
		case "name":
			if n := strings.TrimSpace(in.GetName()); n == "" || len(n) > 100 {
				return nil, errs.Invalidf("category.name must be 1 to 100 characters")
			}
		case "description":
			if len(in.GetDescription()) > 2000 {
				return nil, errs.Invalidf("category.description must be at most 2000 characters")
			}
		default:
			return nil, errs.Invalidf("update_mask: %q cannot be updated; use name or description", p)
		}
	}
	c, count, err := s.store.updateCategory(ctx, in.GetSlug(), func(c *categoryRow) {
		for _, p := range paths {
			switch p {
			case "name":
				c.Name = strings.TrimSpace(in.GetName())
			case "description":
				c.Description = in.GetDescription()
			}
		}
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidate(ctx)
	return &productv1.UpdateCategoryResponse{Category: c.toProto(count)}, nil
}

// ReorderCategories implements ProductService.
func (s *Service) ReorderCategories(ctx context.Context, req *productv1.ReorderCategoriesRequest) (*productv1.ReorderCategoriesResponse, error) {
	if err := s.store.reorderCategories(ctx, req.GetSlugs()); err != nil {
		return nil, err
	}
	cats, counts, err := s.store.categories(ctx, true)
	if err != nil {
		return nil, err
	}
	res := &productv1.ReorderCategoriesResponse{Categories: make([]*productv1.Category, len(cats))}
	for i := range cats {
		res.Categories[i] = cats[i].toProto(counts[cats[i].Slug])
	}
	return res, nil
}

// ArchiveCategory implements ProductService.
func (s *Service) ArchiveCategory(ctx context.Context, req *productv1.ArchiveCategoryRequest) (*productv1.ArchiveCategoryResponse, error) {
	c, count, err := s.store.updateCategory(ctx, req.GetSlug(), func(c *categoryRow) {
		if c.ArchivedAt == 0 {
			c.ArchivedAt = micros(s.now())
		}
	})
	if err != nil {
		return nil, err
	}
	return &productv1.ArchiveCategoryResponse{Category: c.toProto(count)}, nil
}

// RestoreCategory implements ProductService.
func (s *Service) RestoreCategory(ctx context.Context, req *productv1.RestoreCategoryRequest) (*productv1.RestoreCategoryResponse, error) {
	c, count, err := s.store.updateCategory(ctx, req.GetSlug(), func(c *categoryRow) { c.ArchivedAt = 0 })
	if err != nil {
		return nil, err
	}
	return &productv1.RestoreCategoryResponse{Category: c.toProto(count)}, nil
}

// createCategory inserts c after the last category.
func (s *store) createCategory(ctx context.Context, c *categoryRow) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var last sql.NullInt64
		if err := tx.NewSelect().Model((*categoryRow)(nil)).ColumnExpr("max(c.position)").Scan(ctx, &last); err != nil {
			return fmt.Errorf("last category position: %w", err)
		}
		c.Position = 0
		if last.Valid {
			c.Position = int(last.Int64) + 1
		}
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Conflictf("a category with slug %q already exists", c.Slug)
			}
			return fmt.Errorf("insert category: %w", err)
		}
		return nil
	})
}

// updateCategory reads a category in a transaction, lets mutate change it
// and writes it back; a rename queues its products for the search index
// (their documents carry the category's name). It returns the category and
// its count of active products.
func (s *store) updateCategory(ctx context.Context, slug string, mutate func(*categoryRow)) (*categoryRow, int64, error) {
	c := new(categoryRow)
	var count int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model(c).Where("c.slug = ?", slug)
		if db.IsPostgres(s.db) {
			q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("category %q not found", slug)
			}
			return fmt.Errorf("read category: %w", err)
		}
		oldName := c.Name
		mutate(c)
		if _, err := tx.NewUpdate().Model(c).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update category: %w", err)
		}
		n, err := tx.NewSelect().Model((*productRow)(nil)).Where("p.category = ?", slug).Where("p.status = ?", active).Count(ctx)
		if err != nil {
			return fmt.Errorf("count products of %q: %w", slug, err)
		}
		count = int64(n)
		if c.Name == oldName {
			return nil
		}
		var ids []string
		if err := tx.NewSelect().Model((*productRow)(nil)).Column("id").Where("category = ?", slug).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("products of renamed category: %w", err)
		}
		return s.changed(ctx, tx, ids...)
	})
	if err != nil {
		return nil, 0, err
	}
	return c, count, nil
}

// reorderCategories numbers the categories in the order of slugs, which
// must name each of them once.
func (s *store) reorderCategories(ctx context.Context, slugs []string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var all []string
		q := tx.NewSelect().Model((*categoryRow)(nil)).Column("slug")
		if db.IsPostgres(s.db) {
			q.For("UPDATE")
		}
		if err := q.Scan(ctx, &all); err != nil {
			return fmt.Errorf("read categories: %w", err)
		}
		var unknown, missing []string
		for _, slug := range slugs {
			if !slices.Contains(all, slug) {
				unknown = append(unknown, slug)
			}
		}
		for _, slug := range all {
			if !slices.Contains(slugs, slug) {
				missing = append(missing, slug)
			}
		}
		switch {
		case len(unknown) > 0:
			return errs.Invalidf("slugs: no category %q", unknown)
		case len(missing) > 0:
			return errs.Invalidf("slugs must name every category once; missing %q", missing)
		}
		for i, slug := range slugs {
			if _, err := tx.NewUpdate().Model((*categoryRow)(nil)).Set("position = ?", i).Where("slug = ?", slug).Exec(ctx); err != nil {
				return fmt.Errorf("move category %q: %w", slug, err)
			}
		}
		return nil
	})
}
