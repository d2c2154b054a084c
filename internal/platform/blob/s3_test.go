package blob

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// fakeS3 is an S3-compatible object store on loopback that, like S3,
// refuses requests whose Signature V4 does not verify, whose payload hash
// does not match the body, or whose date is more than 15 minutes off.
type fakeS3 struct {
	t                 *testing.T
	bucket, region    string
	accessKey, secret string
	now               func() time.Time

	mu       sync.Mutex
	objects  map[string]fakeObject
	failNext int
	refused  int
}

type fakeObject struct {
	contentType string
	data        []byte
}

var authHeader = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

func s3Fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if msg := f.verify(r, body); msg != "" {
		f.refused++
		s3Fail(w, http.StatusForbidden, "SignatureDoesNotMatch", msg)
		return
	}
	if f.failNext > 0 {
		f.failNext--
		s3Fail(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		s3Fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	switch r.Method {
	case http.MethodPut:
		f.objects[key] = fakeObject{r.Header.Get("Content-Type"), body}
		w.Header().Set("ETag", `"`+hexSHA256(body)[:32]+`"`)
	case http.MethodGet:
		o, ok := f.objects[key]
		if !ok {
			s3Fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Type", o.contentType)
		_, _ = w.Write(o.data)
	case http.MethodDelete:
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed")
	}
}

// verify recomputes the signature from the signed headers alone, as S3
// does; it returns why the request is refused, or "".
func (f *fakeS3) verify(r *http.Request, body []byte) string {
	m := authHeader.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "malformed Authorization header"
	}
	akid, date, region, signed := m[1], m[2], m[3], strings.Split(m[4], ";")
	if akid != f.accessKey || region != f.region {
		return "unknown access key or wrong region"
	}
	for _, need := range []string{"host", "x-amz-content-sha256", "x-amz-date"} {
		if !strings.Contains(";"+m[4]+";", ";"+need+";") {
			return need + " is not signed"
		}
	}
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hexSHA256(body) {
		return "x-amz-content-sha256 does not match the body"
	}
	when, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil || !strings.HasPrefix(r.Header.Get("X-Amz-Date"), date) || when.Sub(f.now()).Abs() > 15*time.Minute {
		return "RequestTimeTooSkewed"
	}
	// Rebuild the request as the client signed it: only the signed headers.
	clone := &http.Request{Method: r.Method, URL: r.URL, Host: r.Host, Header: http.Header{}}
	for _, h := range signed {
		if h != "host" {
			clone.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sigV4{accessKey: f.accessKey, secretKey: f.secret, region: f.region, service: "s3"}.sign(clone, hexSHA256(body), when)
	if clone.Header.Get("Authorization") != r.Header.Get("Authorization") {
		return "The request signature we calculated does not match the signature you provided."
	}
	return ""
}

func startFakeS3(t *testing.T, now func() time.Time) (*fakeS3, string) {
	t.Helper()
	f := &fakeS3{t: t, bucket: "labels", region: "eu-west-1", accessKey: "AKIAFAKE", secret: "fake/secret+key", now: now, objects: map[string]fakeObject{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestS3SignsRequestsTheStoreAccepts(t *testing.T) {
	t.Parallel()
	f, endpoint := startFakeS3(t, time.Now)
	ctx := context.Background()
	good, err := NewS3(S3Config{Endpoint: endpoint, Bucket: "labels", Prefix: "shop1/", Region: "eu-west-1", AccessKeyID: "AKIAFAKE", SecretAccessKey: "fake/secret+key"})
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Put(ctx, "2026/12/sh_1.pdf", "application/pdf", []byte("%PDF-1.4")); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	_, stored := f.objects["shop1/2026/12/sh_1.pdf"]
	f.mu.Unlock()
	if !stored {
		t.Errorf("object not under the prefix: %v", f.objects)
	}
	for name, cfg := range map[string]S3Config{
		"wrong secret": {Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", AccessKeyID: "AKIAFAKE", SecretAccessKey: "guess"},
		"wrong region": {Endpoint: endpoint, Bucket: "labels", Region: "us-east-1", AccessKeyID: "AKIAFAKE", SecretAccessKey: "fake/secret+key"},
		"skewed clock": {Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", AccessKeyID: "AKIAFAKE", SecretAccessKey: "fake/secret+key",
			Now: func() time.Time { return time.Now().Add(-time.Hour) }},
	} {
		bad, err := NewS3(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := bad.Put(ctx, "x", "text/plain", []byte("x")); err == nil || !strings.Contains(err.Error(), "(403)") {
			t.Errorf("%s: Put = %v, want the store's 403", name, err)
		}
	}
}

func TestS3RetriesServerErrors(t *testing.T) {
	t.Parallel()
	f, endpoint := startFakeS3(t, time.Now)
	s, err := NewS3(S3Config{Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", AccessKeyID: "AKIAFAKE", SecretAccessKey: "fake/secret+key"})
	if err != nil {
		t.Fatal(err)
	}
	f.failNext = 2
	if err := s.Put(context.Background(), "k", "text/plain", []byte("v")); err != nil {
		t.Fatalf("Put after two 503s: %v", err)
	}
	f.failNext = 10
	if _, _, err := s.Get(context.Background(), "k"); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "SlowDown") {
		t.Errorf("Get against a failing store = %v, want Unavailable", err)
	}
}

func TestNewS3ChecksConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []S3Config{
		{Endpoint: "s3.amazonaws.com", Bucket: "b", Region: "r", AccessKeyID: "a", SecretAccessKey: "s"},
		{Endpoint: "https://s3.amazonaws.com", Region: "r", AccessKeyID: "a", SecretAccessKey: "s"},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b", Region: "r", AccessKeyID: "a", SecretAccessKey: "s", Prefix: "../x/"},
	} {
		if _, err := NewS3(cfg); err == nil {
			t.Errorf("NewS3(%+v) accepted", cfg)
		}
	}
	s, err := NewS3(S3Config{Endpoint: "https://s3.eu-west-1.amazonaws.com", Bucket: "b", Region: "eu-west-1", AccessKeyID: "a", SecretAccessKey: "s", VirtualHosted: true})
	if err != nil || s.base.String() != "https://b.s3.eu-west-1.amazonaws.com" {
		t.Errorf("virtual-hosted base = %v, %v", s.base, err)
	}
}
