package blob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// sigV4 is AWS Signature Version 4 as S3 documents it, which the fake S3
// in s3_test.go uses to verify the signatures minio-go makes (and which
// TestSigV4KnownAnswers checks against AWS's published examples).
type sigV4 struct {
	accessKey, secretKey, sessionToken string
	region, service                    string
}

const (
	amzDateFormat = "20060102T150405Z"
	emptySHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sign adds X-Amz-Date (unless set), the session token if any and the
// Authorization header to req, whose body hashes to payloadHash (hex
// SHA-256). Every header already on req, plus Host, is signed.
func (s sigV4) sign(req *http.Request, payloadHash string, now time.Time) {
	amzDate := req.Header.Get("X-Amz-Date")
	if amzDate == "" {
		amzDate = now.UTC().Format(amzDateFormat)
		req.Header.Set("X-Amz-Date", amzDate)
	}
	if s.sessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", s.sessionToken)
	}
	canonical, signed := s.canonicalRequest(req, payloadHash)
	scope := amzDate[:8] + "/" + s.region + "/" + s.service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	sig := hex.EncodeToString(hmacSHA256(s.signingKey(amzDate[:8]), toSign))
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		s.accessKey, scope, signed, sig))
}

func (s sigV4) signingKey(date string) []byte {
	k := hmacSHA256([]byte("AWS4"+s.secretKey), date)
	k = hmacSHA256(k, s.region)
	k = hmacSHA256(k, s.service)
	return hmacSHA256(k, "aws4_request")
}

// canonicalRequest is the request in SigV4's canonical form, and the list
// of signed header names.
func (s sigV4) canonicalRequest(req *http.Request, payloadHash string) (string, string) {
	headers := map[string]string{"host": req.Host}
	if req.Host == "" {
		headers["host"] = req.URL.Host
	}
	for name, vs := range req.Header {
		if strings.EqualFold(name, "Authorization") {
			continue
		}
		vals := make([]string, len(vs))
		for i, v := range vs {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		headers[strings.ToLower(name)] = strings.Join(vals, ",")
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	slices.Sort(names)
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n + ":" + headers[n] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.Join([]string{req.Method, canonicalPath(path), canonicalQuery(req.URL.Query()), ch.String(), signed, payloadHash}, "\n"), signed
}

// canonicalPath re-encodes each segment of an escaped path the SigV4 way.
func canonicalPath(escaped string) string {
	segs := strings.Split(escaped, "/")
	for i, seg := range segs {
		raw, err := url.PathUnescape(seg)
		if err != nil {
			raw = seg
		}
		segs[i] = uriEncode(raw)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k)+"="+uriEncode(v))
		}
	}
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes everything but RFC 3986's unreserved
// characters, with upper-case hex, as SigV4 requires.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
