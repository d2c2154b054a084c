package blob

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// S3Config configures an S3 store.
type S3Config struct {
	// Endpoint is the S3 API, e.g. "https://s3.eu-west-1.amazonaws.com" or a
	// compatible store such as "http://127.0.0.1:9000" (MinIO).
	Endpoint string
	// Bucket holds the blobs; Prefix (e.g. "labels/") is put before keys.
	Bucket, Prefix string
	// Region signs the requests, e.g. "eu-west-1" ("us-east-1" for most
	// compatible stores).
	Region string
	// AccessKeyID, SecretAccessKey and, for temporary credentials,
	// SessionToken authenticate the requests.
	AccessKeyID, SecretAccessKey, SessionToken string
	// VirtualHosted addresses the bucket as a host name
	// (bucket.s3.amazonaws.com) instead of a path (s3.amazonaws.com/bucket).
	VirtualHosted bool
	// HTTPClient sends the requests; nil means one with a 60 s timeout.
	HTTPClient *http.Client
	// Now is the clock for signatures; time.Now when nil.
	Now func() time.Time
	// MaxBytes bounds what Get reads (32 MiB when 0).
	MaxBytes int64
}

// String describes cfg without its secrets, should it ever be printed.
func (cfg S3Config) String() string {
	return fmt.Sprintf("blob.S3Config{Endpoint: %q, Bucket: %q, Prefix: %q, Region: %q, AccessKeyID: %q, SecretAccessKey: [redacted]}",
		cfg.Endpoint, cfg.Bucket, cfg.Prefix, cfg.Region, cfg.AccessKeyID)
}

// S3 keeps blobs as objects in an S3 bucket, through plain HTTP requests
// signed with AWS Signature Version 4. A PUT of a whole object is atomic in
// S3, so readers see the old blob or the new one.
type S3 struct {
	cfg  S3Config
	base *url.URL
	sig  sigV4
	http *http.Client
}

var _ Store = (*S3)(nil)

// NewS3 checks cfg and returns the store. It makes no request.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("blob: S3 endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	var missing []string
	for name, v := range map[string]string{"bucket": cfg.Bucket, "region": cfg.Region, "access key id": cfg.AccessKeyID, "secret access key": cfg.SecretAccessKey} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("blob: S3 needs the %s", strings.Join(missing, ", "))
	}
	if cfg.Prefix != "" {
		if err := CheckKey(strings.TrimSuffix(cfg.Prefix, "/")); err != nil {
			return nil, fmt.Errorf("blob: S3 prefix: %w", err)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 32 << 20
	}
	base := *u
	base.Path = strings.TrimRight(base.Path, "/")
	if cfg.VirtualHosted {
		base.Host = cfg.Bucket + "." + base.Host
	} else {
		base.Path += "/" + cfg.Bucket
	}
	return &S3{cfg: cfg, base: &base, http: cfg.HTTPClient,
		sig: sigV4{accessKey: cfg.AccessKeyID, secretKey: cfg.SecretAccessKey, sessionToken: cfg.SessionToken, region: cfg.Region, service: "s3"}}, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := checkContentType(contentType); err != nil {
		return err
	}
	_, _, err := s.do(ctx, http.MethodPut, key, contentType, data)
	return err
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := CheckKey(key); err != nil {
		return nil, "", err
	}
	body, header, err := s.do(ctx, http.MethodGet, key, "", nil)
	if err != nil {
		return nil, "", err
	}
	return body, header.Get("Content-Type"), nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	_, _, err := s.do(ctx, http.MethodDelete, key, "", nil)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}

// do sends one signed request, retrying twice on a 5xx or a network error
// (each of Put, Get and Delete is idempotent).
func (s *S3) do(ctx context.Context, method, key, contentType string, data []byte) ([]byte, http.Header, error) {
	u := *s.base
	u.Path += "/" + s.cfg.Prefix + key
	u.RawPath = ""
	payloadHash := hexSHA256(data)
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*200*time.Millisecond); err != nil {
				return nil, nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("blob: s3 %s %s: %w", method, key, err)
		}
		if data == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
		s.sig.sign(req, payloadHash, s.cfg.Now())
		resp, err := s.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			lastErr = &errs.Error{Kind: errs.Unavailable, Message: fmt.Sprintf("blob: s3 %s %s: cannot reach the store", method, key), Err: err}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBytes+1))
		resp.Body.Close()
		switch {
		case rerr != nil:
			lastErr = &errs.Error{Kind: errs.Unavailable, Message: fmt.Sprintf("blob: s3 %s %s: answer cut short", method, key), Err: rerr}
			continue
		case int64(len(body)) > s.cfg.MaxBytes:
			return nil, nil, fmt.Errorf("blob: s3 %s %s: object is over %d bytes", method, key, s.cfg.MaxBytes)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return body, resp.Header, nil
		case resp.StatusCode == http.StatusNotFound:
			return nil, nil, errs.NotFoundf("blob %q not found", key)
		case resp.StatusCode >= 500:
			lastErr = &errs.Error{Kind: errs.Unavailable, Message: fmt.Sprintf("blob: s3 %s %s: %s", method, key, s3Error(resp.StatusCode, body))}
			continue
		}
		return nil, nil, fmt.Errorf("blob: s3 %s %s: %s", method, key, s3Error(resp.StatusCode, body))
	}
	return nil, nil, lastErr
}

// s3Error describes S3's XML error answer.
func s3Error(status int, body []byte) string {
	var e struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &e) == nil && e.Code != "" {
		return fmt.Sprintf("%s: %s (%d)", e.Code, e.Message, status)
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
