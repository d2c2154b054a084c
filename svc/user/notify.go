package user

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
)

const (
	emailVerification = notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION
	passwordReset     = notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET
)

// linkArgs is an outbox entry: a single-use link for the notification
// service. It carries the live link (the database keeps only the token's
// hash otherwise); River deletes finished jobs after a day.
type linkArgs struct {
	EventID    string    `json:"event_id"`
	Event      int32     `json:"event_kind"` // a notificationv1.EventKind
	UserID     string    `json:"user_id"`
	Email      string    `json:"email"`
	URL        string    `json:"url"`
	OccurTime  time.Time `json:"occur_time"`
	ExpireTime time.Time `json:"expire_time"`
}

func (linkArgs) Kind() string { return "user_notify_link" }

// queueLink puts a link for u in the outbox, in tx.
func (s *Service) queueLink(ctx context.Context, tx bun.Tx, u *userRow, kind notificationv1.EventKind, link string, expires time.Time) error {
	sum := sha256.Sum256([]byte(link)) // the event id never carries the token itself
	return s.jobs.InsertTx(ctx, tx, linkArgs{
		EventID: "user:" + u.ID + ":" + kind.String() + ":" + hex.EncodeToString(sum[:12]),
		Event:   int32(kind), UserID: u.ID, Email: u.Email, URL: link,
		OccurTime: s.now(), ExpireTime: expires,
	}, nil)
}

// sendLinkJob hands a queued link to the notification service. Notify is
// idempotent by event id (one per link), so a retry after a lost answer
// sends one message; River retries with backoff while the notification
// service is unreachable.
func (s *Service) sendLinkJob(ctx context.Context, j *river.Job[linkArgs]) error {
	a := j.Args
	_, err := s.notify.Notify(ctx, &notificationv1.NotifyRequest{
		EventId: a.EventID, Kind: notificationv1.EventKind(a.Event), UserId: a.UserID,
		OccurTime: timestamppb.New(a.OccurTime),
		Subject: &notificationv1.NotifyRequest_Link{Link: &notificationv1.AccountLink{
			Email: a.Email, Url: a.URL, ExpireTime: timestamppb.New(a.ExpireTime),
		}},
	})
	return err
}
