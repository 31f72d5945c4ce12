// Package s3probe runs the read-only checks of the S3 "403 Access Denied"
// guide against the live configuration of the bucket a CloudTrail denial
// names: object ownership, bucket policy denies and allows, policy ARN
// mistakes, Block Public Access, SSE-KMS key policies, Requester Pays,
// missing objects, access point and VPC endpoint policies, expired
// presigned URLs, and default encryption that blocks SSE-C writes. Every
// check reports what it saw and the API calls it made; a check that is
// itself denied or throttled reports that as evidence.
package s3probe

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/policy"
)

// Result is the outcome of one check. The zero value, ResultUnknown, means
// the check could not tell.
type Result int

// The check results.
const (
	ResultUnknown Result = iota
	// ResultPass: this check rules its cause out.
	ResultPass
	// ResultFail: this check found its cause.
	ResultFail
	// ResultSkipped: the check does not apply to this request.
	ResultSkipped
)

var resultNames = [...]string{ResultUnknown: "unknown", ResultPass: "pass", ResultFail: "fail", ResultSkipped: "skipped"}

// String returns the JSON name.
func (r Result) String() string {
	if r < 0 || int(r) >= len(resultNames) {
		return resultNames[ResultUnknown]
	}
	return resultNames[r]
}

// MarshalText encodes the JSON name.
func (r Result) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes a JSON name.
func (r *Result) UnmarshalText(b []byte) error {
	for i, n := range resultNames {
		if n == string(b) {
			*r = Result(i)
			return nil
		}
	}
	return fmt.Errorf("unknown check result %q", b)
}

// The check names, one per check of the S3 guide.
const (
	CheckObjectOwnership   = "object_ownership"
	CheckBucketPolicyDeny  = "bucket_policy_deny"
	CheckBucketPolicyAllow = "bucket_policy_allow"
	CheckPolicyARN         = "bucket_policy_arns"
	CheckBlockPublicAccess = "block_public_access"
	CheckKMS               = "kms_key_policy"
	CheckRequesterPays     = "requester_pays"
	CheckObjectExists      = "object_exists"
	CheckAccessPoint       = "access_point_policy"
	CheckVPCEndpoint       = "vpc_endpoint_policy"
	CheckPresignedURL      = "presigned_url"
	CheckEncryptionType    = "encryption_type_blocked"
)

// Check is one piece of evidence: the "evidence" entries of a diagnosis.
type Check struct {
	Name   string   `json:"name"`
	Result Result   `json:"result"`
	Detail string   `json:"detail"`
	Calls  []string `json:"calls"`
	// Sid and ConditionKey name the policy statement and the condition key
	// behind the result, when there are ones.
	Sid          string `json:"sid,omitempty"`
	ConditionKey string `json:"conditionKey,omitempty"`
	// Facts is what the decision needs beyond the result; not part of the
	// JSON because Detail says it for people.
	Facts Facts `json:"-"`
}

// Facts are the structured findings a decision and a fix proposal need.
type Facts struct {
	// Explicit is true when a Deny statement matched (not a missing Allow).
	Explicit bool
	// BucketMissing is true when S3 answered NoSuchBucket.
	BucketMissing bool
	// BucketOwnerID and ObjectOwnerID are canonical user IDs.
	BucketOwnerID string
	ObjectOwnerID string
	// ACLOwnerOnly is true when the bucket ACL grants only its owner,
	// the precondition of enforcing bucket ownership.
	ACLOwnerOnly bool
	// ObjectOwnership is the bucket's Object Ownership setting, "" if none.
	ObjectOwnership string
	// PolicySHA256 is the hex SHA-256 of the bucket policy as read.
	PolicySHA256 string
	// NewPolicy is the bucket policy with ARN whitespace removed.
	NewPolicy string
	// KeyID is the KMS key involved.
	KeyID string
}

// Target is what the checks probe: the bucket, key and request a denial
// names, and the request context CloudTrail lets us know.
type Target struct {
	Record cloudtrail.Record
	Bucket string
	Key    string
	// Action is the IAM action the operation needs, e.g. "s3:GetObject"
	// for HeadObject.
	Action string
	// Region is where the bucket's request was made.
	Region string
	// BucketAccount is the account owning the bucket, when known.
	BucketAccount string
	// CallerAccount is the caller's account, "" when anonymous.
	CallerAccount string
	Anonymous     bool
	// AccessPoint is the access point ARN the request came through, if any.
	AccessPoint string
	// Request is the policy evaluation context.
	Request policy.Request
}

// CrossAccount reports whether the caller is in another account than the
// bucket (anonymous callers are).
func (t Target) CrossAccount() bool {
	return t.Anonymous || (t.CallerAccount != "" && t.BucketAccount != "" && t.CallerAccount != t.BucketAccount)
}

// ObjectARN is the ARN of the object, or of the bucket for bucket actions.
func (t Target) ObjectARN() string {
	if t.Key != "" && IsObjectAction(t.Action) {
		return "arn:" + denial.Partition(t.Region) + ":s3:::" + t.Bucket + "/" + t.Key
	}
	return "arn:" + denial.Partition(t.Region) + ":s3:::" + t.Bucket
}

// IsRead reports whether the action reads an object (so SSE-KMS needs
// kms:Decrypt and a missing key reads as 403).
func (t Target) IsRead() bool {
	switch t.Action {
	case "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectTagging", "s3:GetObjectAttributes":
		return true
	}
	return false
}

// IsWrite reports whether the action writes an object (SSE-KMS needs
// kms:GenerateDataKey).
func (t Target) IsWrite() bool { return t.Action == "s3:PutObject" }

// sseCHeaders are the request headers that carry a customer-provided key
// (SSE-C) for the object being written; CloudTrail copies them into
// requestParameters under these names.
// The x-amz-copy-source-... variants are deliberately absent: they decrypt
// the copy source, which is a read, and reads of SSE-C objects stay allowed.
var sseCHeaders = []string{
	"x-amz-server-side-encryption-customer-algorithm",
	"x-amz-server-side-encryption-customer-key-MD5",
}

// CustomerKey reports whether the denied request asked S3 to encrypt with a
// customer-provided key (SSE-C), and the evidence CloudTrail holds for it.
// It reads the SSE-C headers in requestParameters and, in
// additionalEventData, "SSEApplied": "SSE_C" (what S3 writes when it applied
// SSE-C) and "SSECustomerAlgorithm".
func (t Target) CustomerKey() (bool, string) {
	params := jsonObject(t.Record.RequestParameters)
	for _, h := range sseCHeaders {
		if name, v, ok := lookupFold(params, h); ok && v != "" {
			return true, fmt.Sprintf("requestParameters %s: %s", name, v)
		}
	}
	extra := jsonObject(t.Record.AdditionalEventData)
	if name, v, ok := lookupFold(extra, "SSEApplied"); ok && strings.EqualFold(v, "SSE_C") {
		return true, fmt.Sprintf("additionalEventData %s: %s", name, v)
	}
	if name, v, ok := lookupFold(extra, "SSECustomerAlgorithm"); ok && v != "" {
		return true, fmt.Sprintf("additionalEventData %s: %s", name, v)
	}
	return false, ""
}

// jsonObject decodes a JSON object; nil when raw is absent or not one.
func jsonObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// lookupFold finds a string member by a case-insensitive name: header names
// are case-insensitive, and CloudTrail keeps the spelling the client sent.
// ok is false when no member has the name; a value that is not a string
// reads as "".
func lookupFold(m map[string]json.RawMessage, name string) (string, string, bool) {
	if raw, ok := m[name]; ok {
		var v string
		_ = json.Unmarshal(raw, &v)
		return name, v, true
	}
	for k, raw := range m {
		if strings.EqualFold(k, name) {
			var v string
			_ = json.Unmarshal(raw, &v)
			return k, v, true
		}
	}
	return "", "", false
}

// IsObjectAction reports whether an IAM action applies to object ARNs.
func IsObjectAction(action string) bool {
	a := strings.TrimPrefix(action, "s3:")
	return strings.Contains(a, "Object") || strings.HasPrefix(a, "AbortMultipart") || strings.HasPrefix(a, "ListMultipartUploadParts")
}

// NewTarget reads the target of an S3 record; false when the record is not
// an S3 call on a bucket.
func NewTarget(rec cloudtrail.Record) (Target, bool) {
	if rec.Service() != "s3" {
		return Target{}, false
	}
	t := Target{Record: rec, Bucket: rec.RequestParam("bucketName"), Key: rec.RequestParam("key"), Region: rec.AWSRegion}
	if t.Bucket == "" {
		return Target{}, false
	}
	t.Action = denial.ActionFor("s3", rec.EventName)
	for _, r := range rec.Resources {
		switch r.Type {
		case "AWS::S3::Bucket":
			t.BucketAccount = r.AccountID
		case "AWS::S3::AccessPoint":
			t.AccessPoint = r.ARN
		}
	}
	t.Request = policy.RequestFromRecord(rec, t.Action, nil)
	t.Anonymous = t.Request.Anonymous
	t.CallerAccount = t.Request.PrincipalAccount
	if t.BucketAccount == "" && rec.RecipientAccountID != "" && (t.Anonymous || rec.RecipientAccountID != t.CallerAccount) {
		// The bucket owner's copy of a cross-account or anonymous call.
		t.BucketAccount = rec.RecipientAccountID
	}
	// A same-account trail entry whose bucket resource names no owner
	// proves nothing about the bucket's account: it stays unknown.
	t.Request.Resources = []string{t.ObjectARN()}
	// Access point keys: CloudTrail lists the access point among the
	// resources whenever the request used one.
	if t.AccessPoint != "" {
		t.Request.Set("s3:DataAccessPointArn", t.AccessPoint)
		if parts := strings.SplitN(t.AccessPoint, ":", 6); len(parts) == 6 {
			t.Request.Set("s3:DataAccessPointAccount", parts[4])
		}
	} else if rec.EventID != "" {
		t.Request.SetAbsent("s3:DataAccessPointArn")
		t.Request.SetAbsent("s3:DataAccessPointAccount")
	}
	return t, true
}

// keyVariants are other spellings of a key that CloudTrail, a shell or a
// URL may have turned it into: a space written as "+" or "%20".
func keyVariants(key string) []string {
	seen := map[string]bool{key: true}
	var out []string
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if u, err := url.QueryUnescape(key); err == nil {
		add(u)
	}
	if u, err := url.PathUnescape(key); err == nil {
		add(u)
	}
	add(strings.ReplaceAll(key, " ", "+"))
	return out
}
