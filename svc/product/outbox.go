package product

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// indexArgs is an outbox entry: a product whose search document must be
// brought in line with the database. It names the product only: the job
// reads the product when it runs, so a replayed or late job writes the
// current state, never the state of its time.
type indexArgs struct {
	ProductID string `json:"product_id"`
}

func (indexArgs) Kind() string { return "product_index" }

// queueIndex, in tx, bumps the index_version of products and puts one
// index job per product in the outbox: the job exists if and only if the
// change commits, so a crash between the commit and the index call loses
// nothing.
func (s *Service) queueIndex(ctx context.Context, tx bun.Tx, ids ...string) error {
	_, err := s.queueIndexJobs(ctx, tx, ids...)
	return err
}

// queueIndexJobs is queueIndex answering the ids of the jobs it queued.
func (s *Service) queueIndexJobs(ctx context.Context, tx bun.Tx, ids ...string) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if _, err := tx.NewUpdate().Model((*productRow)(nil)).
		Set("index_version = index_version + 1").
		Where("id IN (?)", bun.List(ids)).
		Exec(ctx); err != nil {
		return nil, fmt.Errorf("bump index version: %w", err)
	}
	jobIDs := make([]int64, 0, len(ids))
	for _, id := range ids {
		res, err := s.jobs.InsertTxResult(ctx, tx, indexArgs{ProductID: id}, nil)
		if err != nil {
			return nil, err
		}
		jobIDs = append(jobIDs, res.Job.ID)
	}
	return jobIDs, nil
}

// settleIndexJobs drops index jobs, by id, that nobody has started yet:
// their products were indexed since they were queued (a bulk load indexes
// its products itself, in batches), so working them again one by one would
// only cost a process minutes of redundant index writes and merges. A job
// already running or retrying is left alone.
func (s *Service) settleIndexJobs(ctx context.Context, jobIDs []int64) error {
	for chunk := range slices.Chunk(jobIDs, 1000) {
		_, err := s.jobs.River().JobDeleteMany(ctx, river.NewJobDeleteManyParams().
			IDs(chunk...).Kinds(indexArgs{}.Kind()).States(rivertype.JobStateAvailable).First(len(chunk)))
		if err != nil {
			return fmt.Errorf("drop index jobs done by the caller: %w", err)
		}
	}
	return nil
}

// indexJob works an outbox entry. It fails (and River retries with backoff)
// while the index is unavailable.
func (s *Service) indexJob(ctx context.Context, j *river.Job[indexArgs]) error {
	return s.indexProducts(ctx, j.Args.ProductID)
}

// stripes serialise the index writes of one product within this process
// (Bleve has no versions; for Elasticsearch the external versions order the
// writes of all replicas).
type stripes [64]sync.Mutex

// lock locks the stripes of ids, in stripe order, and returns the unlock.
func (st *stripes) lock(ids []string) func() {
	var idx []int
	for _, id := range ids {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		idx = append(idx, int(h.Sum32()%uint32(len(st))))
	}
	idx = slices.Compact(slices.Sorted(slices.Values(idx)))
	for _, i := range idx {
		st[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			st[i].Unlock()
		}
	}
}

// indexProducts brings the documents of products in line with the
// database: it reads them and indexes the active ones, removing the others
// (and ids no longer in the catalog), every document at its index_version.
func (s *Service) indexProducts(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	unlock := s.stripes.lock(ids)
	defer unlock()
	rows, err := s.store.productsByID(ctx, ids)
	if err != nil {
		return err
	}
	list := make([]*productRow, 0, len(rows))
	var gone []search.Deletion
	for _, id := range ids {
		if r, ok := rows[id]; ok {
			list = append(list, r)
		} else {
			gone = append(gone, search.Deletion{ID: id})
		}
	}
	docs, inactive, err := s.documents(ctx, list)
	if err != nil {
		return err
	}
	for _, id := range inactive {
		gone = append(gone, search.Deletion{ID: id, Version: rows[id].IndexVersion})
	}
	if err := s.index.Index(ctx, docs...); err != nil {
		return fmt.Errorf("index products: %w", err)
	}
	return s.remove(ctx, gone)
}

// remove deletes documents, at their versions where the index keeps them.
func (s *Service) remove(ctx context.Context, gone []search.Deletion) error {
	if len(gone) == 0 {
		return nil
	}
	if vd, ok := s.index.(search.VersionedDeleter); ok {
		if err := vd.DeleteVersions(ctx, gone...); err != nil {
			return fmt.Errorf("remove products from the index: %w", err)
		}
		return nil
	}
	ids := make([]string, len(gone))
	for i, g := range gone {
		ids[i] = g.ID
	}
	if err := s.index.Delete(ctx, ids...); err != nil {
		return fmt.Errorf("remove products from the index: %w", err)
	}
	return nil
}
