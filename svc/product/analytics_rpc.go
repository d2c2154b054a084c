package product

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/search"
)

// defaultAnalyticsRange is the range a report covers when its request sets
// no start_time.
const defaultAnalyticsRange = 30 * 24 * time.Hour

// rangeRequest is what every report request has.
type rangeRequest interface {
	GetStartTime() *timestamppb.Timestamp
	GetEndTime() *timestamppb.Timestamp
}

// reportRange is a request's range with the defaults filled in.
func (s *Service) reportRange(req rangeRequest) (analytics.Range, error) {
	r := analytics.Range{To: s.now().UTC()}
	if req.GetEndTime() != nil {
		r.To = req.GetEndTime().AsTime()
	}
	r.From = r.To.Add(-defaultAnalyticsRange)
	if req.GetStartTime() != nil {
		r.From = req.GetStartTime().AsTime()
	}
	if !r.From.Before(r.To) {
		return r, errs.Invalidf("start_time must be before end_time")
	}
	return r, nil
}

// reportCursor is where the next page of a report starts, bound to the
// report and range it belongs to.
type reportCursor struct {
	Offset int   `json:"o"`
	Report int   `json:"r"`
	From   int64 `json:"f"`
	To     int64 `json:"t"`
}

type pagedRequest interface {
	rangeRequest
	GetPageSize() int32
	GetPageToken() string
}

// report answers one page of a report request.
func (s *Service) report(ctx context.Context, kind analytics.Report, req pagedRequest) ([]*productv1.SearchQueryStats, string, error) {
	r, err := s.reportRange(req)
	if err != nil {
		return nil, "", err
	}
	size := paging.Size(req.GetPageSize())
	cur := reportCursor{Report: int(kind), From: r.From.UnixMicro(), To: r.To.UnixMicro()}
	if req.GetPageToken() != "" {
		c := new(reportCursor)
		if err := paging.Decode(req.GetPageToken(), c); err != nil {
			return nil, "", err
		}
		// A page token keeps the range it was made for ("now" moves on
		// between pages); times the request sets must be the token's.
		if c.Report != cur.Report || c.Offset < 0 ||
			(req.GetStartTime() != nil && c.From != cur.From) || (req.GetEndTime() != nil && c.To != cur.To) {
			return nil, "", errs.Invalidf("page_token belongs to another report or range: start again without it")
		}
		cur = *c
		r = analytics.Range{From: time.UnixMicro(c.From).UTC(), To: time.UnixMicro(c.To).UTC()}
	}
	stats, err := s.searchStats.Queries(ctx, analytics.ListQuery{Report: kind, Range: r, Offset: cur.Offset, Limit: size + 1})
	if err != nil {
		return nil, "", analyticsError(err)
	}
	next := ""
	if len(stats) > size {
		stats = stats[:size]
		c := cur
		c.Offset += size
		next = paging.Encode(c)
	}
	out := make([]*productv1.SearchQueryStats, len(stats))
	for i, st := range stats {
		sum := analytics.Summary{Searches: st.Searches, Clicks: st.Clicks, Purchases: st.Purchases}
		out[i] = &productv1.SearchQueryStats{
			Query: st.Query, Searches: st.Searches, ZeroResultSearches: st.ZeroResults,
			Clicks: st.Clicks, AddToCarts: st.AddsToCart, Purchases: st.Purchases,
			ClickThroughRate: sum.ClickThroughRate(), ConversionRate: sum.ConversionRate(),
			LastSearchTime: timestamppb.New(st.LastSearch),
		}
		if kind == analytics.ZeroResultQueries && !strings.Contains(st.Query, " ") {
			out[i].SuggestedSynonymWord = st.Query
		}
	}
	return out, next, nil
}

// analyticsError turns an analytics backend's unavailability into a clear
// unavailable error; other failures stay internal.
func analyticsError(err error) error {
	if errors.Is(err, analytics.ErrUnavailable) {
		return &errs.Error{Kind: errs.Unavailable, Message: "search analytics are unavailable for a moment; try again shortly", Err: err}
	}
	return fmt.Errorf("search analytics: %w", err)
}

// GetSearchSummary implements SearchAnalyticsService.
func (s *Service) GetSearchSummary(ctx context.Context, req *productv1.GetSearchSummaryRequest) (*productv1.GetSearchSummaryResponse, error) {
	r, err := s.reportRange(req)
	if err != nil {
		return nil, err
	}
	sum, err := s.searchStats.Summarize(ctx, r)
	if err != nil {
		return nil, analyticsError(err)
	}
	return &productv1.GetSearchSummaryResponse{
		Searches: sum.Searches, ZeroResultSearches: sum.ZeroResults, ClickSearches: sum.Clicks,
		AddToCartSearches: sum.AddsToCart, PurchaseSearches: sum.Purchases,
		ClickThroughRate: sum.ClickThroughRate(), ConversionRate: sum.ConversionRate(),
		StartTime: timestamppb.New(r.From), EndTime: timestamppb.New(r.To),
	}, nil
}

// ListTopSearchQueries implements SearchAnalyticsService.
func (s *Service) ListTopSearchQueries(ctx context.Context, req *productv1.ListTopSearchQueriesRequest) (*productv1.ListTopSearchQueriesResponse, error) {
	qs, next, err := s.report(ctx, analytics.TopQueries, req)
	if err != nil {
		return nil, err
	}
	return &productv1.ListTopSearchQueriesResponse{Queries: qs, NextPageToken: next}, nil
}

// ListZeroResultSearchQueries implements SearchAnalyticsService.
func (s *Service) ListZeroResultSearchQueries(ctx context.Context, req *productv1.ListZeroResultSearchQueriesRequest) (*productv1.ListZeroResultSearchQueriesResponse, error) {
	qs, next, err := s.report(ctx, analytics.ZeroResultQueries, req)
	if err != nil {
		return nil, err
	}
	return &productv1.ListZeroResultSearchQueriesResponse{Queries: qs, NextPageToken: next}, nil
}

// ListClickedNotBoughtSearchQueries implements SearchAnalyticsService.
func (s *Service) ListClickedNotBoughtSearchQueries(ctx context.Context, req *productv1.ListClickedNotBoughtSearchQueriesRequest) (*productv1.ListClickedNotBoughtSearchQueriesResponse, error) {
	qs, next, err := s.report(ctx, analytics.ClickedNotBought, req)
	if err != nil {
		return nil, err
	}
	return &productv1.ListClickedNotBoughtSearchQueriesResponse{Queries: qs, NextPageToken: next}, nil
}

// AddSearchSynonym implements SearchAnalyticsService: it reads the index's
// synonym rules, joins the words to the equivalence rule that already holds
// one of them (or adds a rule), and sets the rules as SetSearchSynonyms does.
func (s *Service) AddSearchSynonym(ctx context.Context, req *productv1.AddSearchSynonymRequest) (*productv1.AddSearchSynonymResponse, error) {
	sy, err := s.synonyms()
	if err != nil {
		return nil, err
	}
	words := []string{strings.ToLower(strings.TrimSpace(req.GetWord()))}
	for _, w := range req.GetSynonyms() {
		if w = strings.ToLower(strings.TrimSpace(w)); !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if len(words) < 2 {
		return nil, errs.Invalidf("synonyms: give at least one word other than %q", words[0])
	}
	// Check the new words alone first, so that a bad word is blamed on
	// the request rather than on the stored rules.
	if _, err := search.ParseSynonyms([]string{strings.Join(words, ", ")}); err != nil {
		return nil, errs.Invalidf("word, synonyms: %v", strings.TrimPrefix(err.Error(), "rule 0 "))
	}
	current, err := sy.Synonyms(ctx)
	if err != nil {
		return nil, searchError(err)
	}
	rules, err := search.ParseSynonyms(current)
	if err != nil {
		return nil, fmt.Errorf("stored synonyms: %w", err)
	}
	joined := -1
	for i, r := range rules {
		for _, w := range words {
			if !slices.Contains(r.From, w) {
				continue
			}
			if r.Rewrite {
				return nil, errs.Invalidf("word, synonyms: %q is already rewritten by the rule %q; change it with SetSearchSynonyms", w, r.String())
			}
			if joined >= 0 && joined != i {
				return nil, errs.Invalidf("word, synonyms: the words are in two rules already (%q and %q); merge them with SetSearchSynonyms", rules[joined].String(), r.String())
			}
			joined = i
		}
	}
	if joined >= 0 {
		r := &rules[joined]
		for _, w := range words {
			if !slices.Contains(r.From, w) {
				r.From = append(r.From, w)
			}
		}
		r.To = r.From
	} else {
		rules = append(rules, search.SynonymRule{From: words, To: words})
	}
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	if _, err := search.ParseSynonyms(out); err != nil {
		return nil, errs.Invalidf("word, synonyms: %v", err)
	}
	if err := sy.SetSynonyms(ctx, out); err != nil {
		return nil, searchError(err)
	}
	return &productv1.AddSearchSynonymResponse{Rules: out}, nil
}
