package channeltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TwilioFake speaks Twilio's Messages API on a loopback HTTP server:
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json with form fields To,
// From and Body and HTTP Basic auth (account SID, auth token), answering
// 201 with the message resource as JSON, or Twilio's error body
// {"code", "message", "more_info", "status"}.
type TwilioFake struct {
	URL        string
	AccountSID string
	AuthToken  string

	mu       sync.Mutex
	messages []TwilioMessage
	failures map[string]twilioError // To → the error to answer
}

// TwilioMessage is one message the fake accepted.
type TwilioMessage struct {
	Sid  string
	To   string
	From string
	Body string
}

type twilioError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
	Info    string `json:"more_info"`
}

// StartTwilio starts the fake, stopped when the test ends.
func StartTwilio(t testing.TB) *TwilioFake {
	t.Helper()
	f := &TwilioFake{AccountSID: "AC" + randomHex(16), AuthToken: randomHex(16), failures: map[string]twilioError{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Fail makes messages to `to` fail with Twilio's error code and HTTP
// status (21211 with 400: not a valid phone number; 20500 with 500: an
// internal error) until Succeed.
func (f *TwilioFake) Fail(to string, status, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[to] = twilioError{Code: code, Status: status, Message: "test failure " + http.StatusText(status),
		Info: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)}
}

// Succeed lets messages to `to` through again.
func (f *TwilioFake) Succeed(to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.failures, to)
}

// Messages are the accepted messages, oldest first.
func (f *TwilioFake) Messages() []TwilioMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TwilioMessage(nil), f.messages...)
}

// To are the accepted messages to `to`.
func (f *TwilioFake) To(to string) []TwilioMessage {
	var out []TwilioMessage
	for _, m := range f.Messages() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func (f *TwilioFake) serve(w http.ResponseWriter, r *http.Request) {
	path := "/2010-04-01/Accounts/" + f.AccountSID + "/Messages.json"
	if r.URL.Path != path {
		writeTwilioError(w, twilioError{Code: 20404, Status: 404, Message: "The requested resource " + r.URL.Path + " was not found"})
		return
	}
	if r.Method != http.MethodPost {
		writeTwilioError(w, twilioError{Code: 20004, Status: 405, Message: "Method not allowed"})
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.AccountSID || pass != f.AuthToken {
		writeTwilioError(w, twilioError{Code: 20003, Status: 401, Message: "Authenticate"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, twilioError{Code: 20001, Status: 400, Message: "Unreadable form"})
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	switch {
	case to == "":
		writeTwilioError(w, twilioError{Code: 21604, Status: 400, Message: "A 'To' phone number is required."})
		return
	case from == "":
		writeTwilioError(w, twilioError{Code: 21603, Status: 400, Message: "A 'From' phone number is required."})
		return
	case body == "":
		writeTwilioError(w, twilioError{Code: 21602, Status: 400, Message: "Message body is required."})
		return
	case !strings.HasPrefix(to, "+"):
		writeTwilioError(w, twilioError{Code: 21211, Status: 400, Message: "The 'To' number " + to + " is not a valid phone number."})
		return
	}
	f.mu.Lock()
	fail, failing := f.failures[to]
	if !failing {
		f.messages = append(f.messages, TwilioMessage{Sid: "SM" + randomHex(16), To: to, From: from, Body: body})
	}
	var msg TwilioMessage
	if !failing {
		msg = f.messages[len(f.messages)-1]
	}
	f.mu.Unlock()
	if failing {
		writeTwilioError(w, fail)
		return
	}
	now := time.Now().UTC().Format(time.RFC1123Z)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": msg.Sid, "account_sid": f.AccountSID, "to": msg.To, "from": msg.From, "body": msg.Body,
		"status": "queued", "direction": "outbound-api", "num_segments": "1", "api_version": "2010-04-01",
		"date_created": now, "date_updated": now, "uri": path[:len(path)-len(".json")] + "/" + msg.Sid + ".json",
	})
}

func writeTwilioError(w http.ResponseWriter, e twilioError) {
	if e.Info == "" {
		e.Info = "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
