package channel_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// cutRelay is an SMTP relay that speaks just enough of RFC 5321 to take
// one message and then breaks the connection at a chosen point, as a
// relay going away or a network cut does.
type cutRelay struct {
	addr string
	// got is closed when the relay has read the whole message (the end of
	// DATA).
	got chan struct{}
}

const (
	cutBeforeDataReply = iota // read the message's end, close without answering
	cutAfterDataReply         // answer 250 to the end of DATA, close on the next command
)

func startCutRelay(t *testing.T, mode int) *cutRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &cutRelay{addr: ln.Addr().String(), got: make(chan struct{})}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		in := bufio.NewReader(c)
		say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
		say("220 cut.test ESMTP")
		inData := false
		for {
			line, err := in.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if inData {
				if line != "." {
					continue
				}
				inData = false
				close(r.got)
				if mode == cutBeforeDataReply {
					return
				}
				say("250 2.0.0 queued")
				continue
			}
			switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); {
			case cmd == "EHLO" || cmd == "HELO":
				say("250 cut.test")
			case cmd == "MAIL" || cmd == "RCPT" || cmd == "NOOP":
				say("250 2.1.0 ok")
			case cmd == "DATA":
				say("354 go ahead")
				inData = true
			default: // RSET, QUIT…: after a delivered message, the cut
				return
			}
		}
	}()
	return r
}

func cutSMTP(t *testing.T, r *cutRelay) *channel.SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(r.addr)
	p, _ := strconv.Atoi(port)
	s, err := channel.NewSMTP(channel.SMTPConfig{Host: host, Port: p, TLS: channel.TLSNone, From: "shop@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A connection that breaks after the relay answered 250 to the end of DATA
// is a sent message: sending it again would deliver it twice.
func TestSMTPCutAfterTheRelayTookTheMessageIsSent(t *testing.T) {
	r := startCutRelay(t, cutAfterDataReply)
	id, err := cutSMTP(t, r).SendEmail(context.Background(), channel.Email{ID: "d-1", To: "ada@example.com", Subject: "Hi", Text: "x"})
	if err != nil {
		t.Fatalf("SendEmail = %v; the relay took the message, want success", err)
	}
	if id != "d-1@example.com" {
		t.Errorf("provider id %q, want the Message-ID d-1@example.com", id)
	}
}

// A connection that breaks between the end of DATA and the relay's answer
// leaves unknown whether the relay took it: neither permanent nor worth a
// blind retry.
func TestSMTPCutBeforeTheRelayAnsweredIsUnconfirmed(t *testing.T) {
	r := startCutRelay(t, cutBeforeDataReply)
	_, err := cutSMTP(t, r).SendEmail(context.Background(), channel.Email{ID: "d-2", To: "ada@example.com", Subject: "Hi", Text: "x"})
	select {
	case <-r.got:
	default:
		t.Fatal("the relay never read the end of the message")
	}
	if err == nil || !channel.IsUnconfirmed(err) || channel.IsPermanent(err) {
		t.Fatalf("SendEmail = %v (unconfirmed %v, permanent %v); want an unconfirmed, not permanent, error",
			err, channel.IsUnconfirmed(err), channel.IsPermanent(err))
	}
}
