package blob

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// StoreCloser is a Store to close when done.
type StoreCloser interface {
	Store
	io.Closer
}

// Open opens the store a setting names:
//
//   - a directory path, e.g. "data/labels": a Dir;
//   - "s3://BUCKET[/PREFIX]?region=REGION[&endpoint=URL][&virtual_hosted=true]":
//     an S3 store, with credentials from the chain Credentials reads through
//     getenv (keys, shared files, web identity, container or instance
//     roles). The endpoint defaults to https://s3.REGION.amazonaws.com.
func Open(spec string, getenv func(string) string) (StoreCloser, error) {
	if !strings.HasPrefix(spec, "s3://") {
		return NewDir(spec)
	}
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("blob: %q: %w", spec, err)
	}
	q := u.Query()
	for k := range q {
		if k != "region" && k != "endpoint" && k != "virtual_hosted" {
			return nil, fmt.Errorf("blob: %q: unknown parameter %q (region, endpoint, virtual_hosted)", spec, k)
		}
	}
	region := q.Get("region")
	if region == "" {
		return nil, fmt.Errorf("blob: %q: add ?region=, e.g. ?region=eu-west-1", spec)
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return NewS3(S3Config{
		Endpoint: endpoint, Bucket: u.Host, Prefix: prefix, Region: region, VirtualHosted: q.Get("virtual_hosted") == "true",
		Credentials: Credentials(getenv),
	})
}
