package audit

import (
	"context"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/emporiumhq/emporium/gen/emporium/audit/v1"
	"github.com/emporiumhq/emporium/gen/emporium/audit/v1/auditv1connect"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// PathPrefix is where a service serves AuditService for its own log:
// /audit/<service>/. One proto service serves every log; the prefix lets
// the edge route each service's to the processes that run it.
func PathPrefix(service string) string { return "/audit/" + service + "/" }

// Mount serves AuditService for l on mux under PathPrefix(l.Service()).
func Mount(mux *http.ServeMux, l *Log, opts ...connect.HandlerOption) {
	path, h := auditv1connect.NewAuditServiceHandler(&handler{log: l}, opts...)
	prefix := PathPrefix(l.Service())
	mux.Handle(prefix[:len(prefix)-1]+path, http.StripPrefix(prefix[:len(prefix)-1], h))
}

// handler is AuditService over one log. Its access rules (admin only) are
// in the .proto and enforced by the authz interceptor.
type handler struct{ log *Log }

var _ auditv1connect.AuditServiceHandler = (*handler)(nil)

type cursor struct {
	Seq int64 `json:"s"`
}

func (h *handler) ListAuditEntries(ctx context.Context, req *auditv1.ListAuditEntriesRequest) (*auditv1.ListAuditEntriesResponse, error) {
	f := Filter{Actor: req.GetActor(), Procedure: req.GetProcedure(), TargetID: req.GetTargetId(), Code: req.GetCode()}
	if req.StartTime != nil {
		f.Start = req.GetStartTime().AsTime()
	}
	if req.EndTime != nil {
		f.End = req.GetEndTime().AsTime()
	}
	if req.GetPageToken() != "" {
		var c cursor
		if err := paging.Decode(req.GetPageToken(), &c); err != nil {
			return nil, err
		}
		f.Before = max(c.Seq, 1) // a forged 0 or less would restart the list
	}
	size := paging.Size(req.GetPageSize())
	entries, err := h.log.List(ctx, f, size+1)
	if err != nil {
		return nil, err
	}
	res := &auditv1.ListAuditEntriesResponse{}
	if len(entries) > size {
		entries = entries[:size]
		res.NextPageToken = paging.Encode(cursor{Seq: entries[size-1].Seq})
	}
	res.Entries = make([]*auditv1.AuditEntry, 0, len(entries))
	for i := range entries {
		res.Entries = append(res.Entries, toProto(h.log.Service(), &entries[i]))
	}
	return res, nil
}

func (h *handler) VerifyAuditLog(ctx context.Context, _ *auditv1.VerifyAuditLogRequest) (*auditv1.VerifyAuditLogResponse, error) {
	r, err := h.log.Verify(ctx)
	if err != nil {
		return nil, err
	}
	res := &auditv1.VerifyAuditLogResponse{Service: r.Service, Entries: r.Entries}
	for _, b := range r.Breaks {
		res.Breaks = append(res.Breaks, &auditv1.AuditChainBreak{Seq: b.Seq, Reason: b.Reason})
	}
	return res, nil
}

func toProto(service string, e *Entry) *auditv1.AuditEntry {
	return &auditv1.AuditEntry{
		Seq:         e.Seq,
		Service:     service,
		Time:        timestamppb.New(e.Time()),
		Actor:       e.Actor,
		ActorRoles:  e.Roles(),
		Procedure:   e.Procedure,
		TargetId:    e.TargetID,
		RequestJson: e.Request,
		Code:        e.Code,
		TraceId:     e.TraceID,
		PrevHash:    e.PrevHash,
		Hash:        e.Hash,
	}
}
