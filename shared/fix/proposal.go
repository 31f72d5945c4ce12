// Package fix is the fix catalogue: the only changes denyfix ever makes, the
// proposal that describes one, and (in later files) applying, verifying and
// rolling one back. Anything not in Kinds is never applied.
package fix

import "fmt"

// Kind is one entry of the fix catalogue. The zero value, KindNone, means no
// fix applies.
type Kind int

// The fix catalogue (DESIGN.md "Fix catalogue").
const (
	KindNone Kind = iota
	// KindS3EnforceBucketOwner sets S3 Object Ownership to BucketOwnerEnforced.
	KindS3EnforceBucketOwner
	// KindS3ObjectACLBucketOwnerFullControl grants the bucket owner full
	// control of one object with PutObjectAcl.
	KindS3ObjectACLBucketOwnerFullControl
	// KindS3BucketPolicyARNWhitespace rewrites a bucket policy with the
	// whitespace removed from its ARNs. It widens access, so it is
	// approval-only and never automatic.
	KindS3BucketPolicyARNWhitespace
)

var kindNames = [...]string{
	KindNone:                              "none",
	KindS3EnforceBucketOwner:              "s3_enforce_bucket_owner",
	KindS3ObjectACLBucketOwnerFullControl: "s3_object_acl_bucket_owner_full_control",
	KindS3BucketPolicyARNWhitespace:       "s3_bucket_policy_arn_whitespace",
}

// Kinds lists the catalogue, KindNone excluded.
func Kinds() []Kind {
	return []Kind{KindS3EnforceBucketOwner, KindS3ObjectACLBucketOwnerFullControl, KindS3BucketPolicyARNWhitespace}
}

// String returns the catalogue code.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return kindNames[KindNone]
	}
	return kindNames[k]
}

// MarshalText encodes the catalogue code.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a catalogue code; anything else is an error, so a
// tampered proposal can never name a change outside the catalogue.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown fix kind %q", b)
}

// AutoAllowed reports whether the kind may ever be applied without approval.
// The bucket policy rewrite widens access and never may.
func (k Kind) AutoAllowed() bool {
	return k == KindS3EnforceBucketOwner || k == KindS3ObjectACLBucketOwnerFullControl
}

// Proposal is one proposed change: what, where, and what must still hold when
// it is applied. It is the "fix" field of a diagnosis and the heart of the
// proposal stored with a finding.
type Proposal struct {
	Kind    Kind   `json:"kind"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	Bucket  string `json:"bucket"`
	Key     string `json:"key,omitempty"`
	// Summary says in one sentence what the change does.
	Summary string `json:"summary"`
	// Command is the equivalent AWS CLI command, for people who apply it by hand.
	Command string `json:"command,omitempty"`
	// Preconditions are re-checked immediately before applying.
	Preconditions []string `json:"preconditions,omitempty"`
	// PolicySHA256 is the hash of the bucket policy seen at diagnosis, for
	// KindS3BucketPolicyARNWhitespace: the fix applies only to that policy.
	PolicySHA256 string `json:"policySha256,omitempty"`
	// NewPolicy is the corrected policy, for KindS3BucketPolicyARNWhitespace.
	NewPolicy string `json:"newPolicy,omitempty"`
}
