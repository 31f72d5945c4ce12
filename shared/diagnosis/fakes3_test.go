package diagnosis_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeS3 is an S3 endpoint that answers exactly as S3 does (XML bodies,
// status codes, headers) for the cases moto cannot model: moto gives every
// account the same canonical ID (so cross-account object ownership cannot
// happen), answers GetBucketRequestPayment with an empty payer, drops
// BlockedEncryptionTypes from GetBucketEncryption (moto 5.2.1 accepts it in
// PutBucketEncryption and never returns it, so a bucket blocking SSE-C
// cannot be modelled), and cannot be made to deny or throttle the checks'
// own calls.
//
// Responses are keyed by the operation: "GetBucketAcl", "GetObjectAcl",
// "GetBucketOwnershipControls", "GetBucketPolicy", "GetPublicAccessBlock",
// "GetBucketEncryption", "GetBucketRequestPayment", "ListObjectsV2",
// "HeadObject"; "*" answers every operation not listed.
type fakeS3 struct {
	responses map[string]fakeResponse
	delay     time.Duration
}

type fakeResponse struct {
	status  int
	body    string
	headers map[string]string
}

const (
	bucketOwnerID  = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
	partnerOwnerID = "f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09"
	s3NS           = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`
)

func s3Error(status int, code, message string) fakeResponse {
	return fakeResponse{status: status, body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>` + code + `</Code><Message>` + message + `</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>aGVsbG8gZGVueWZpeCBob3N0IGlk</HostId></Error>`}
}

func aclXML(owner string, grantees ...string) string {
	var grants strings.Builder
	for _, g := range grantees {
		grants.WriteString(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + g + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`)
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy ` + s3NS + `><Owner><ID>` + owner + `</ID></Owner><AccessControlList>` + grants.String() + `</AccessControlList></AccessControlPolicy>`
}

func listXML(bucket, key, owner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult ` + s3NS + `><Name>` + bucket + `</Name><Prefix>` + key + `</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>` + key + `</Key><LastModified>2026-11-20T03:14:15.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>48213</Size><Owner><ID>` + owner + `</ID></Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`
}

// healthyBucket is a bucket with nothing unusual: owner-only ACL, no
// policy, no Block Public Access, SSE-S3, the bucket owner pays.
func healthyBucket(bucket, key string) map[string]fakeResponse {
	return map[string]fakeResponse{
		"GetBucketAcl":               {status: 200, body: aclXML(bucketOwnerID, bucketOwnerID)},
		"GetObjectAcl":               {status: 200, body: aclXML(bucketOwnerID, bucketOwnerID)},
		"GetBucketOwnershipControls": {status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<OwnershipControls ` + s3NS + `><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`},
		"GetBucketPolicy":            s3Error(404, "NoSuchBucketPolicy", "The bucket policy does not exist"),
		"GetPublicAccessBlock":       s3Error(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
		"GetBucketEncryption":        {status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ServerSideEncryptionConfiguration ` + s3NS + `><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`},
		"GetBucketRequestPayment":    {status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<RequestPaymentConfiguration ` + s3NS + `><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`},
		"ListObjectsV2":              {status: 200, body: listXML(bucket, key, bucketOwnerID)},
		"HeadObject":                 {status: 200, headers: map[string]string{"x-amz-server-side-encryption": "AES256", "Content-Length": "48213", "ETag": `"9b2cf535f27731c974343645a3985328"`, "Last-Modified": "Fri, 20 Nov 2026 03:14:15 GMT", "Content-Type": "text/csv"}},
	}
}

// blockedSSEC is GetBucketEncryption of a bucket that blocks SSE-C writes,
// exactly as S3 answers since SSE-C blocking exists (the default for
// buckets created from April 2026).
var blockedSSEC = fakeResponse{status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ServerSideEncryptionConfiguration ` + s3NS + `><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>`}

// operation names the S3 operation of a path-style request.
func operation(r *http.Request) string {
	q := r.URL.Query()
	path := strings.TrimPrefix(r.URL.Path, "/")
	_, key, _ := strings.Cut(path, "/")
	switch {
	case r.Method == http.MethodHead && key != "":
		return "HeadObject"
	case q.Has("acl") && key != "":
		return "GetObjectAcl"
	case q.Has("acl"):
		return "GetBucketAcl"
	case q.Has("ownershipControls"):
		return "GetBucketOwnershipControls"
	case q.Has("policy"):
		return "GetBucketPolicy"
	case q.Has("publicAccessBlock"):
		return "GetPublicAccessBlock"
	case q.Has("encryption"):
		return "GetBucketEncryption"
	case q.Has("requestPayment"):
		return "GetBucketRequestPayment"
	case q.Get("list-type") == "2":
		return "ListObjectsV2"
	}
	return fmt.Sprintf("%s %s", r.Method, r.URL)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	op := operation(r)
	resp, ok := f.responses[op]
	if !ok {
		resp, ok = f.responses["*"]
	}
	if !ok {
		resp = s3Error(501, "NotImplemented", "A header you provided implies functionality that is not implemented: "+op)
	}
	w.Header().Set("x-amz-request-id", "4442587FB7D0A2F9")
	w.Header().Set("Server", "AmazonS3")
	for k, v := range resp.headers {
		w.Header().Set(k, v)
	}
	if resp.body != "" {
		w.Header().Set("Content-Type", "application/xml")
	}
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(resp.body))
	}
}

// startFakeS3 serves responses and returns clients pointed at it. Only the
// S3 client talks to it; the other services are not needed by these cases.
func startFakeS3(tb testing.TB, f *fakeS3) clients {
	tb.Helper()
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	c := newClients(cfg, srv.URL)
	c.ctl, c.kms, c.ec2 = nil, nil, nil
	return c
}
