package channel

import (
	"context"

	"github.com/emporiumhq/emporium/internal/platform/mailbox"
)

// Mailbox delivers emails and SMS into the dev mailbox, which `emporium
// dev` shows at /dev/mailbox. The mailbox keeps a message id once, so a
// repeated send of the same message changes nothing.
type Mailbox struct {
	Box *mailbox.Mailbox
}

var (
	_ EmailSender = Mailbox{}
	_ SMSSender   = Mailbox{}
)

// SendEmail implements EmailSender.
func (m Mailbox) SendEmail(ctx context.Context, e Email) (string, error) {
	err := m.Box.Send(ctx, mailbox.Message{
		ID: e.ID, Channel: mailbox.ChannelEmail, To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML,
	})
	return e.ID, err
}

// SendSMS implements SMSSender.
func (m Mailbox) SendSMS(ctx context.Context, s SMS) (string, error) {
	err := m.Box.Send(ctx, mailbox.Message{
		ID: s.ID, Channel: mailbox.ChannelSMS, To: s.To, Subject: "SMS", Text: s.Body,
	})
	return s.ID, err
}
