package blob

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// fakeS3 is an S3-compatible object store on loopback that, like S3,
// refuses requests whose Signature V4 does not verify, whose payload hash
// does not match the body, or whose date is more than 15 minutes off.
type fakeS3 struct {
	t                 *testing.T
	bucket, region    string
	accessKey, secret string
	sessionToken      string // wanted in X-Amz-Security-Token when set
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

var authHeader = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

func s3Fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	msg := f.verify(r, body)
	if msg == "" && r.Header.Get("X-Amz-Content-Sha256") == streamingPayload {
		body, msg = f.decodeChunks(r, body)
	}
	if msg != "" {
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
	case http.MethodGet, http.MethodHead:
		o, ok := f.objects[key]
		if !ok {
			s3Fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Type", o.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
		w.Header().Set("ETag", `"`+hexSHA256(o.data)[:32]+`"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		if r.Method == http.MethodGet {
			_, _ = w.Write(o.data)
		}
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
		return "malformed Authorization header: " + r.Header.Get("Authorization")
	}
	akid, date, region, signed := m[1], m[2], m[3], strings.Split(m[4], ";")
	if akid != f.accessKey || region != f.region {
		return "unknown access key or wrong region"
	}
	if f.sessionToken != "" && r.Header.Get("X-Amz-Security-Token") != f.sessionToken {
		return "temporary credentials without their session token"
	}
	for _, need := range []string{"host", "x-amz-content-sha256", "x-amz-date"} {
		if !strings.Contains(";"+m[4]+";", ";"+need+";") {
			return need + " is not signed"
		}
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash != "UNSIGNED-PAYLOAD" && payloadHash != streamingPayload && payloadHash != hexSHA256(body) {
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
	sigV4{accessKey: f.accessKey, secretKey: f.secret, region: f.region, service: "s3"}.sign(clone, payloadHash, when)
	if mine := authHeader.FindStringSubmatch(clone.Header.Get("Authorization")); mine == nil || mine[5] != m[5] {
		return "The request signature we calculated does not match the signature you provided."
	}
	return ""
}

// streamingPayload marks a body sent in signed chunks (Content-Encoding:
// aws-chunked), as S3 documents for SigV4 streaming uploads.
const streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

// decodeChunks checks every chunk's signature, each chained to the one
// before from the request's seed signature, and returns the payload.
func (f *fakeS3) decodeChunks(r *http.Request, body []byte) ([]byte, string) {
	m := authHeader.FindStringSubmatch(r.Header.Get("Authorization"))
	amzDate := r.Header.Get("X-Amz-Date")
	scope := amzDate[:8] + "/" + f.region + "/s3/aws4_request"
	key := sigV4{secretKey: f.secret, region: f.region, service: "s3"}.signingKey(amzDate[:8])
	prev := m[5]
	var payload []byte
	for {
		line, rest, ok := bytes.Cut(body, []byte("\r\n"))
		if !ok {
			return nil, "aws-chunked body: chunk header without CRLF"
		}
		sizeHex, sig, ok := strings.Cut(string(line), ";chunk-signature=")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if !ok || err != nil || size < 0 || int64(len(rest)) < size+2 {
			return nil, "aws-chunked body: malformed chunk header " + string(line)
		}
		chunk := rest[:size]
		toSign := "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hexSHA256(chunk)
		if want := hex.EncodeToString(hmacSHA256(key, toSign)); sig != want {
			return nil, "aws-chunked body: a chunk's signature does not match"
		}
		payload, prev, body = append(payload, chunk...), sig, rest[size+2:]
		if size == 0 {
			break
		}
	}
	if n := r.Header.Get("X-Amz-Decoded-Content-Length"); n != strconv.Itoa(len(payload)) {
		return nil, "x-amz-decoded-content-length " + n + " does not match the payload"
	}
	return payload, ""
}

func startFakeS3(t *testing.T, now func() time.Time) (*fakeS3, string) {
	t.Helper()
	f := &fakeS3{t: t, bucket: "labels", region: "eu-west-1", accessKey: "AKIAFAKE", secret: "fake/secret+key", now: now, objects: map[string]fakeObject{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// static is fixed credentials, as from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func static(id, secret string) *credentials.Credentials {
	return credentials.NewStaticV4(id, secret, "")
}

func TestS3SignsRequestsTheStoreAccepts(t *testing.T) {
	t.Parallel()
	f, endpoint := startFakeS3(t, time.Now)
	ctx := context.Background()
	good, err := NewS3(S3Config{Endpoint: endpoint, Bucket: "labels", Prefix: "shop1/", Region: "eu-west-1", Credentials: static("AKIAFAKE", "fake/secret+key")})
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
		"wrong secret": {Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", Credentials: static("AKIAFAKE", "guess")},
		"wrong region": {Endpoint: endpoint, Bucket: "labels", Region: "us-east-1", Credentials: static("AKIAFAKE", "fake/secret+key")},
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
	s, err := NewS3(S3Config{Endpoint: endpoint, Bucket: "labels", Region: "eu-west-1", Credentials: static("AKIAFAKE", "fake/secret+key"), MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.failNext = 2
	f.mu.Unlock()
	if err := s.Put(context.Background(), "k", "text/plain", []byte("v")); err != nil {
		t.Fatalf("Put after two 503s: %v", err)
	}
	f.mu.Lock()
	f.failNext = 10
	f.mu.Unlock()
	if _, _, err := s.Get(context.Background(), "k"); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "(503)") {
		t.Errorf("Get against a failing store = %v, want Unavailable", err)
	}
}

func TestNewS3ChecksConfig(t *testing.T) {
	t.Parallel()
	creds := static("a", "s")
	for _, cfg := range []S3Config{
		{Endpoint: "s3.amazonaws.com", Bucket: "b", Region: "r", Credentials: creds},
		{Endpoint: "https://s3.amazonaws.com/some/path", Bucket: "b", Region: "r", Credentials: creds},
		{Endpoint: "https://s3.amazonaws.com", Region: "r", Credentials: creds},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b", Credentials: creds},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b", Region: "r"},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b", Region: "r", Credentials: creds, Prefix: "../x/"},
	} {
		if _, err := NewS3(cfg); err == nil {
			t.Errorf("NewS3(%v) accepted", cfg)
		}
	}
	if _, err := NewS3(S3Config{Endpoint: "https://s3.eu-west-1.amazonaws.com", Bucket: "b", Region: "eu-west-1", Credentials: creds, VirtualHosted: true}); err != nil {
		t.Errorf("virtual-hosted: %v", err)
	}
}

// TestS3CredentialChain: the store finds its credentials where operators
// put them: the environment, a shared credentials file, and web identity
// (IRSA on EKS), which it exchanges at STS (here a fake speaking STS's
// AssumeRoleWithWebIdentity protocol) for temporary keys.
func TestS3CredentialChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	shared := filepath.Join(dir, "credentials")
	if err := os.WriteFile(shared, []byte("[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n\n[labels]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = fake/secret+key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("eyJ.projected.serviceaccount.token"), 0o600); err != nil {
		t.Fatal(err)
	}
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("WebIdentityToken") != "eyJ.projected.serviceaccount.token" ||
			r.Form.Get("RoleArn") != "arn:aws:iam::123456789012:role/labels" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Code>AccessDenied</Code><Message>not this role</Message></Error></ErrorResponse>`)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp/secret</SecretAccessKey><SessionToken>session-token-1</SessionToken>
<Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(sts.Close)

	tests := []struct {
		name                      string
		env                       map[string]string
		key, secret, sessionToken string
	}{
		{"environment", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret+key"}, "AKIAFAKE", "fake/secret+key", ""},
		{"environment, temporary", map[string]string{"AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "env/secret", "AWS_SESSION_TOKEN": "env-token"}, "ASIAENV", "env/secret", "env-token"},
		{"shared file and profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": shared, "AWS_PROFILE": "labels"}, "AKIAFAKE", "fake/secret+key", ""},
		{"web identity", map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/labels",
			"AWS_ENDPOINT_URL_STS": sts.URL, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}, "ASIATEMP", "temp/secret", "session-token-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, endpoint := startFakeS3(t, time.Now)
			f.accessKey, f.secret, f.sessionToken = tt.key, tt.secret, tt.sessionToken
			s, err := Open("s3://labels?region=eu-west-1&endpoint="+endpoint, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "sh_1.pdf", "application/pdf", []byte("%PDF")); err != nil {
				t.Fatalf("Put with credentials from %s: %v", tt.name, err)
			}
		})
	}
}
