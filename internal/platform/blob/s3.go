package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

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
	// Credentials authenticate the requests: Credentials(getenv) is the
	// chain operators expect, or credentials.NewStaticV4 for fixed keys.
	Credentials *credentials.Credentials
	// VirtualHosted addresses the bucket as a host name
	// (bucket.s3.amazonaws.com) instead of a path (s3.amazonaws.com/bucket).
	VirtualHosted bool
	// Transport sends the requests; nil means minio-go's default.
	Transport http.RoundTripper
	// MaxRetries bounds the attempts of one call on a 5xx or a network error
	// (each of Put, Get and Delete is idempotent); 0 means 5.
	MaxRetries int
	// MaxBytes bounds what Get reads (32 MiB when 0).
	MaxBytes int64
}

// String describes cfg without its credentials, should it ever be printed.
func (cfg S3Config) String() string {
	return fmt.Sprintf("blob.S3Config{Endpoint: %q, Bucket: %q, Prefix: %q, Region: %q, VirtualHosted: %t}",
		cfg.Endpoint, cfg.Bucket, cfg.Prefix, cfg.Region, cfg.VirtualHosted)
}

// Credentials is the credential chain AWS's own SDKs and CLI follow, read
// through getenv, first that answers wins:
//
//  1. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for
//     temporary keys);
//  2. the shared credentials and config files (AWS_SHARED_CREDENTIALS_FILE,
//     AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config), profile
//     AWS_PROFILE or "default";
//  3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN: IRSA on
//     EKS, exchanged at STS, or AWS_ENDPOINT_URL_STS), container credentials
//     (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI: ECS, EKS Pod
//     Identity), and last the EC2 instance role (IMDSv2).
//
// Temporary credentials are refreshed before they expire.
func Credentials(getenv func(string) string) *credentials.Credentials {
	var chain []credentials.Provider
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		chain = append(chain, &credentials.Static{Value: credentials.Value{
			AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"), SignerType: credentials.SignatureV4,
		}})
	}
	if file := getenv("AWS_SHARED_CREDENTIALS_FILE"); file != "" {
		chain = append(chain, &credentials.FileAWSCredentials{Filename: file, Profile: getenv("AWS_PROFILE")})
	} else {
		chain = append(chain, &credentials.FileAWSCredentials{Profile: getenv("AWS_PROFILE")})
	}
	iam := &credentials.IAM{Region: getenv("AWS_REGION")}
	iam.EKSIdentity.TokenFile = getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
	iam.EKSIdentity.RoleARN = getenv("AWS_ROLE_ARN")
	iam.EKSIdentity.RoleSessionName = getenv("AWS_ROLE_SESSION_NAME")
	iam.Container.CredentialsRelativeURI = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
	iam.Container.CredentialsFullURI = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	iam.Container.AuthorizationToken = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	if iam.EKSIdentity.TokenFile != "" {
		iam.Endpoint = getenv("AWS_ENDPOINT_URL_STS")
	}
	chain = append(chain, iam)
	return credentials.NewChainCredentials(chain)
}

// S3 keeps blobs as objects in an S3 bucket through minio-go, which signs
// (Signature V4), retries, and uploads large objects in parts. A PUT of a
// whole object is atomic in S3, so readers see the old blob or the new one.
type S3 struct {
	cfg    S3Config
	client *minio.Client
}

var _ Store = (*S3)(nil)

// NewS3 checks cfg and returns the store. It makes no request.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("blob: S3 endpoint %q is not an http(s) URL of a host", cfg.Endpoint)
	}
	var missing []string
	if cfg.Bucket == "" {
		missing = append(missing, "bucket")
	}
	if cfg.Region == "" {
		missing = append(missing, "region")
	}
	if cfg.Credentials == nil {
		missing = append(missing, "credentials")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("blob: S3 needs the %s", strings.Join(missing, ", "))
	}
	if cfg.Prefix != "" {
		if err := CheckKey(strings.TrimSuffix(cfg.Prefix, "/")); err != nil {
			return nil, fmt.Errorf("blob: S3 prefix: %w", err)
		}
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 32 << 20
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 5
	}
	lookup := minio.BucketLookupPath
	if cfg.VirtualHosted {
		lookup = minio.BucketLookupDNS
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        cfg.Credentials,
		Secure:       u.Scheme == "https",
		Transport:    cfg.Transport,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	return &S3{cfg: cfg, client: client}, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := checkContentType(contentType); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	return s.fail(ctx, "put", key, err)
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := CheckKey(key); err != nil {
		return nil, "", err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.fail(ctx, "get", key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return nil, "", s.fail(ctx, "get", key, err)
	}
	if info.Size > s.cfg.MaxBytes {
		return nil, "", fmt.Errorf("blob: s3 get %s: object is %d bytes, over %d", key, info.Size, s.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(obj, s.cfg.MaxBytes+1))
	if err != nil {
		return nil, "", s.fail(ctx, "get", key, err)
	}
	if int64(len(data)) > s.cfg.MaxBytes {
		return nil, "", fmt.Errorf("blob: s3 get %s: object is over %d bytes", key, s.cfg.MaxBytes)
	}
	return data, info.ContentType, nil
}

// Delete implements Store; S3 answers a delete of a missing object with
// success too.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return s.fail(ctx, "delete", key, s.client.RemoveObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.RemoveObjectOptions{}))
}

// Close implements io.Closer; an S3 store holds nothing open.
func (s *S3) Close() error { return nil }

// fail turns minio-go's error into the platform's kinds: a missing object
// is NotFound, a store that is down or overloaded (after the retries) or
// unreachable is Unavailable.
func (s *S3) fail(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := fmt.Sprintf("blob: s3 %s %s", op, key)
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchKey:
		return errs.NotFoundf("blob %q not found", key)
	case resp.StatusCode >= 500:
		return &errs.Error{Kind: errs.Unavailable, Message: fmt.Sprintf("%s: %s: %s (%d)", msg, resp.Code, resp.Message, resp.StatusCode), Err: err}
	case resp.StatusCode != 0:
		return fmt.Errorf("%s: %s: %s (%d)", msg, resp.Code, resp.Message, resp.StatusCode)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &errs.Error{Kind: errs.Unavailable, Message: msg + ": cannot reach the store", Err: err}
	}
	return fmt.Errorf("%s: %w", msg, err)
}
