// Package channeltest runs, inside a test process, the systems the
// notification channels talk to: a real SMTP server (go-smtp, with STARTTLS
// and AUTH PLAIN) and a fake of Twilio's Messages API speaking its wire
// format. Both record what they accepted and can be told to refuse.
package channeltest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServer is a real SMTP server on loopback that keeps every message it
// accepts.
type SMTPServer struct {
	Host      string
	Port      int
	Username  string
	Password  string
	TLSConfig *tls.Config // for clients: trusts the server's certificate

	mu       sync.Mutex
	received []Received
	refuse   map[string]int // recipient → SMTP reply code
	cut      map[string]bool
}

// Received is one message the server accepted.
type Received struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
	// Text and HTML are the decoded text/plain and text/html parts.
	Text string
	HTML string
}

// StartSMTP starts a server that offers STARTTLS (with a certificate
// TLSConfig trusts) and requires AUTH PLAIN with Username and Password,
// stopped when the test ends.
func StartSMTP(t testing.TB) *SMTPServer { return startSMTP(t, true) }

// StartPlainSMTP starts a server without TLS, as a relay on the same host
// may be; it still requires AUTH PLAIN (which clients allow on loopback).
func StartPlainSMTP(t testing.TB) *SMTPServer { return startSMTP(t, false) }

func startSMTP(t testing.TB, withTLS bool) *SMTPServer {
	t.Helper()
	s := &SMTPServer{Host: "127.0.0.1", Username: "mailer", Password: "s3cret-smtp", refuse: map[string]int{}, cut: map[string]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: s, conn: c}, nil }))
	srv.Domain = "localhost"
	if withTLS {
		cert, pool := selfSigned(t)
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else {
		srv.AllowInsecureAuth = true
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = testLogger{t}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// Refuse makes the server answer RCPT TO:<to> with code (550: the
// mailbox does not exist, permanent; 451: try later, transient) until
// Accept.
func (s *SMTPServer) Refuse(to string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[strings.ToLower(to)] = code
}

// CutAfterData makes the server keep each message to `to` and then drop
// the connection without answering the end of DATA, as a relay that
// crashed after queueing it: the sender cannot know the message went.
// Until Accept.
func (s *SMTPServer) CutAfterData(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut[strings.ToLower(to)] = true
}

// Accept lets mail to `to` through again.
func (s *SMTPServer) Accept(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refuse, strings.ToLower(to))
	delete(s.cut, strings.ToLower(to))
}

// Messages are the accepted messages, oldest first.
func (s *SMTPServer) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// To are the accepted messages addressed to `to`.
func (s *SMTPServer) To(to string) []Received {
	var out []Received
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, to) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

type session struct {
	srv    *SMTPServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.Username || pass != s.srv.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	code := s.srv.refuse[strings.ToLower(to)]
	s.srv.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "refused by the test server"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Received{From: s.from, To: s.to, Raw: raw}
	if err := m.parse(); err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message: " + err.Error()}
	}
	s.srv.mu.Lock()
	s.srv.received = append(s.srv.received, m)
	cut := false
	for _, to := range s.to {
		cut = cut || s.srv.cut[strings.ToLower(to)]
	}
	s.srv.mu.Unlock()
	if cut {
		_ = s.conn.Close()
		return errors.New("cut after DATA")
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// parse decodes the headers and the text and HTML parts.
func (m *Received) parse() error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	m.Header = msg.Header
	return m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func (m *Received) walk(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	text, err := decode(encoding, body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}

// Subject is the decoded Subject header.
func (m Received) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "emporium test smtp"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
