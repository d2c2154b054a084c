package user

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
)

const (
	emailVerification = notificationv1.EventKind_EVENT_KIND_EMAIL_VERIFICATION
	passwordReset     = notificationv1.EventKind_EVENT_KIND_PASSWORD_RESET
)

// notifyLink hands a single-use link to the notification service. The
// user service has no outbox, so the call is made directly and retried a
// few times while the notification service is unreachable; Notify is
// idempotent by event id (one per link), so a retry after a lost answer
// sends one message. A link that still cannot be handed over is reported
// to the caller, who can ask for a new one.
func (s *Service) notifyLink(ctx context.Context, u *userRow, kind notificationv1.EventKind, link string, ttl time.Duration) error {
	sum := sha256.Sum256([]byte(link)) // the event id never carries the token itself
	req := &notificationv1.NotifyRequest{
		EventId: "user:" + u.ID + ":" + kind.String() + ":" + hex.EncodeToString(sum[:12]),
		Kind:    kind, UserId: u.ID, OccurTime: timestamppb.New(s.now()),
		Subject: &notificationv1.NotifyRequest_Link{Link: &notificationv1.AccountLink{
			Email: u.Email, Url: link, ExpireTime: timestamppb.New(s.now().Add(ttl)),
		}},
	}
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := s.notify.Notify(ctx, req)
		code := connect.CodeOf(err)
		if err == nil || attempt == 3 || (code != connect.CodeUnavailable && code != connect.CodeDeadlineExceeded) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
			wait *= 2
		}
	}
}
