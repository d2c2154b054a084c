package channel_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// cutTwilio is an HTTP server on a raw TCP listener that reads one whole
// request and then breaks the connection, as Twilio going away or a
// network cut does: before answering, or in the middle of a 201 answer.
func cutTwilio(t *testing.T, answer func(c net.Conn)) (url string, got <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		close(done)
		answer(c)
	}()
	return "http://" + ln.Addr().String(), done
}

func newTwilio(t *testing.T, base string) *channel.Twilio {
	t.Helper()
	// A short timeout, for the case of an answer that never comes.
	client := &http.Client{Timeout: time.Second}
	tw, err := channel.NewTwilio(channel.TwilioConfig{AccountSID: "AC0123", AuthToken: "token", From: "+15005550006", BaseURL: base, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// A send whose request reached Twilio but whose answer was lost may have
// queued the message: it is Unconfirmed, so the delivery is not sent again.
func TestTwilioCutAfterTheRequestIsUnconfirmed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(c net.Conn)
	}{
		{"reset before the answer", func(c net.Conn) {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
		}},
		{"closed before the answer", func(net.Conn) {}},
		{"no answer within the timeout", func(net.Conn) { time.Sleep(3 * time.Second) }},
		{"201 cut short", func(c net.Conn) {
			body := `{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "+1415`
			fmt.Fprintf(c, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+200, body)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, got := cutTwilio(t, tc.answer)
			_, err := newTwilio(t, url).SendSMS(context.Background(), channel.SMS{ID: "d-1", To: "+14155550100", Body: "Shipped"})
			select {
			case <-got:
			default:
				t.Fatalf("the server never read the request (err %v)", err)
			}
			if err == nil || !channel.IsUnconfirmed(err) || channel.IsPermanent(err) {
				t.Fatalf("SendSMS: %v (unconfirmed %v, permanent %v), want an unconfirmed, not permanent error",
					err, channel.IsUnconfirmed(err), channel.IsPermanent(err))
			}
		})
	}
}

// A send that never reached Twilio (nothing listens) is an ordinary
// transient failure: retrying it cannot send anything twice.
func TestTwilioRefusedIsRetried(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newTwilio(t, "http://"+addr).SendSMS(context.Background(), channel.SMS{ID: "d-2", To: "+14155550100", Body: "Shipped"})
	if err == nil || channel.IsUnconfirmed(err) || channel.IsPermanent(err) {
		t.Fatalf("SendSMS to a closed port: %v (unconfirmed %v, permanent %v), want a transient error",
			err, channel.IsUnconfirmed(err), channel.IsPermanent(err))
	}
}
