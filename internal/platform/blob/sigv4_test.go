package blob

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSigV4KnownAnswers signs the worked examples AWS publishes in its
// Signature Version 4 documentation and compares with AWS's signatures.
func TestSigV4KnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		signer                     sigV4
		method, url, body          string
		headers                    map[string]string
		payloadHash                string
		wantSignedHeaders, wantSig string
	}{
		{
			name:   "IAM ListUsers (general SigV4 example)",
			signer: sigV4{accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "iam"},
			method: http.MethodGet, url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
			headers:           map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": "20150830T123600Z"},
			payloadHash:       emptySHA256,
			wantSignedHeaders: "content-type;host;x-amz-date",
			wantSig:           "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
		{
			name:   "S3 GET object with a range",
			signer: sigV4{accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "s3"},
			method: http.MethodGet, url: "https://examplebucket.s3.amazonaws.com/test.txt",
			headers:           map[string]string{"Range": "bytes=0-9", "X-Amz-Content-Sha256": emptySHA256, "X-Amz-Date": "20130524T000000Z"},
			payloadHash:       emptySHA256,
			wantSignedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			wantSig:           "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "S3 PUT object with a reserved character in the key",
			signer: sigV4{accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "s3"},
			method: http.MethodPut, url: "https://examplebucket.s3.amazonaws.com/test$file.text", body: "Welcome to Amazon S3.",
			headers: map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Date": "20130524T000000Z",
				"X-Amz-Storage-Class": "REDUCED_REDUNDANCY", "X-Amz-Content-Sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
			payloadHash:       "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			wantSignedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			wantSig:           "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			tt.signer.sign(req, tt.payloadHash, time.Time{})
			auth := req.Header.Get("Authorization")
			if !strings.Contains(auth, "SignedHeaders="+tt.wantSignedHeaders+",") || !strings.HasSuffix(auth, "Signature="+tt.wantSig) {
				t.Errorf("Authorization = %s\nwant SignedHeaders=%s, Signature=%s", auth, tt.wantSignedHeaders, tt.wantSig)
			}
		})
	}
}
