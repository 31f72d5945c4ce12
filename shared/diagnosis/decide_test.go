package diagnosis_test

import (
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/policy"
	"github.com/denyfix/denyfix/shared/s3probe"
)

func check(name string, r s3probe.Result, facts s3probe.Facts) s3probe.Check {
	return s3probe.Check{Name: name, Result: r, Detail: name + " " + r.String(), Calls: []string{}, Facts: facts}
}

// TestDecideOrder proves the evaluation order: explicit denies before Block
// Public Access before the implicit causes, and no cause without evidence.
func TestDecideOrder(t *testing.T) {
	explicit := s3probe.Facts{Explicit: true}
	tests := []struct {
		name   string
		event  string
		checks []s3probe.Check
		want   denial.Cause
		fix    fix.Kind
	}{
		{"nothing conclusive stays unknown", "s3-cross-account-object-ownership.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyDeny, s3probe.ResultUnknown, s3probe.Facts{}),
			check(s3probe.CheckObjectOwnership, s3probe.ResultPass, s3probe.Facts{}),
		}, denial.CauseUnknown, fix.KindNone},
		{"bucket policy deny before ownership", "s3-cross-account-object-ownership.json", []s3probe.Check{
			check(s3probe.CheckObjectOwnership, s3probe.ResultFail, s3probe.Facts{ACLOwnerOnly: true}),
			check(s3probe.CheckBucketPolicyDeny, s3probe.ResultFail, explicit),
		}, denial.CauseBucketPolicyDeny, fix.KindNone},
		{"vpc endpoint deny before a missing bucket allow", "s3-bucket-policy-missing-allow.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyAllow, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckVPCEndpoint, s3probe.ResultFail, explicit),
		}, denial.CauseVPCEndpointPolicy, fix.KindNone},
		{"block public access before a missing allow", "s3-block-public-access.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyAllow, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckBlockPublicAccess, s3probe.ResultFail, s3probe.Facts{}),
		}, denial.CauseBlockPublicAccess, fix.KindNone},
		{"whitespace before the missing allow it causes", "s3-policy-arn-whitespace.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyAllow, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckPolicyARN, s3probe.ResultFail, s3probe.Facts{PolicySHA256: "abc", NewPolicy: `{"Statement":[]}`}),
		}, denial.CausePolicyARNWhitespace, fix.KindS3BucketPolicyARNWhitespace},
		{"a malformed ARN alone proposes no rewrite", "s3-policy-arn-whitespace.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyAllow, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckPolicyARN, s3probe.ResultFail, s3probe.Facts{PolicySHA256: "abc"}),
		}, denial.CauseBucketPolicyMissingAllow, fix.KindNone},
		{"ownership with an owner-only ACL enforces bucket ownership", "s3-cross-account-object-ownership.json", []s3probe.Check{
			check(s3probe.CheckObjectOwnership, s3probe.ResultFail, s3probe.Facts{ACLOwnerOnly: true}),
		}, denial.CauseCrossAccountObjectOwnership, fix.KindS3EnforceBucketOwner},
		{"ownership with other grantees grants per object", "s3-cross-account-object-ownership.json", []s3probe.Check{
			check(s3probe.CheckObjectOwnership, s3probe.ResultFail, s3probe.Facts{}),
		}, denial.CauseCrossAccountObjectOwnership, fix.KindS3ObjectACLBucketOwnerFullControl},
		{"a missing bucket is reported, not guessed", "s3-kms.json", []s3probe.Check{
			check(s3probe.CheckKMS, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckBucketPolicyDeny, s3probe.ResultUnknown, s3probe.Facts{BucketMissing: true}),
		}, denial.CauseUnknown, fix.KindNone},
		{"the message's SCP outranks every check", "s3-org-policy-deny.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyDeny, s3probe.ResultFail, explicit),
		}, denial.CauseOrgPolicyDeny, fix.KindNone},
		{"an expired URL fails before any policy", "s3-presigned-url-expired.json", []s3probe.Check{
			check(s3probe.CheckPresignedURL, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckBlockPublicAccess, s3probe.ResultFail, s3probe.Facts{}),
		}, denial.CausePresignedURLExpired, fix.KindNone},
		{"bucket policy deny before blocked SSE-C", "s3-encryption-type-blocked.json", []s3probe.Check{
			check(s3probe.CheckEncryptionType, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckBucketPolicyDeny, s3probe.ResultFail, explicit),
		}, denial.CauseBucketPolicyDeny, fix.KindNone},
		{"key policy deny before blocked SSE-C", "s3-encryption-type-blocked.json", []s3probe.Check{
			check(s3probe.CheckEncryptionType, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckKMS, s3probe.ResultFail, explicit),
		}, denial.CauseKMS, fix.KindNone},
		{"blocked SSE-C before the missing allows", "s3-encryption-type-blocked.json", []s3probe.Check{
			check(s3probe.CheckBucketPolicyAllow, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckBlockPublicAccess, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckKMS, s3probe.ResultFail, s3probe.Facts{}),
			check(s3probe.CheckEncryptionType, s3probe.ResultFail, s3probe.Facts{}),
		}, denial.CauseEncryptionTypeBlocked, fix.KindNone},
		{"SSE-C allowed is no cause", "s3-encryption-type-blocked.json", []s3probe.Check{
			check(s3probe.CheckEncryptionType, s3probe.ResultPass, s3probe.Facts{}),
		}, denial.CauseUnknown, fix.KindNone},
		{"key policy missing allow is the last resort", "s3-kms.json", []s3probe.Check{
			check(s3probe.CheckKMS, s3probe.ResultFail, s3probe.Facts{KeyID: "arn:aws:kms:us-east-1:123456789012:key/k"}),
			check(s3probe.CheckRequesterPays, s3probe.ResultFail, s3probe.Facts{}),
		}, denial.CauseRequesterPays, fix.KindNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := loadEvent(t, tt.event)
			exp, ok := denial.Explain(rec)
			if !ok {
				t.Fatal("not a denial")
			}
			target, ok := s3probe.NewTarget(rec)
			if !ok {
				t.Fatal("not an S3 target")
			}
			d := diagnosis.Decide(exp, &target, tt.checks)
			if d.Cause != tt.want {
				t.Errorf("cause: got %v; want %v", d.Cause, tt.want)
			}
			got := fix.KindNone
			if d.Fix != nil {
				got = d.Fix.Kind
			}
			if got != tt.fix {
				t.Errorf("fix: got %v; want %v", got, tt.fix)
			}
			if d.Summary == "" || len(d.NextSteps) == 0 {
				t.Errorf("summary %q steps %v: want both", d.Summary, d.NextSteps)
			}
			if len(d.Evidence) != len(tt.checks)+1 || d.Evidence[len(d.Evidence)-1].Name != diagnosis.CheckOtherPolicies {
				t.Errorf("evidence: got %d checks; want the %d given plus %s", len(d.Evidence), len(tt.checks), diagnosis.CheckOtherPolicies)
			}
		})
	}
}

func TestDecideBucketPolicyDenyNamesSidAndKey(t *testing.T) {
	rec := loadEvent(t, "s3-bucket-policy-deny-vpce.json")
	exp, _ := denial.Explain(rec)
	target, _ := s3probe.NewTarget(rec)
	c := check(s3probe.CheckBucketPolicyDeny, s3probe.ResultFail, s3probe.Facts{Explicit: true})
	c.Sid, c.ConditionKey = "Access-to-specific-VPCE-only", "aws:SourceVpce"
	d := diagnosis.Decide(exp, &target, []s3probe.Check{c})
	if !strings.Contains(d.Summary, `"Access-to-specific-VPCE-only"`) || !strings.Contains(d.Summary, "aws:SourceVpce") {
		t.Errorf("summary %q: want Sid and key", d.Summary)
	}
	if !strings.Contains(d.NextSteps[0], "VPC endpoint") || !strings.Contains(strings.Join(d.NextSteps, " "), "Access-to-specific-VPCE-only") {
		t.Errorf("next steps %q: want the endpoint step and the Sid", d.NextSteps)
	}
	if d.Fix != nil {
		t.Errorf("fix %+v: a Deny is never fixed by denyfix", d.Fix)
	}
}

// TestWhitespaceFixKeepsDeny runs the fix proposal on a policy holding
// both a mistaken Allow and a Deny: the proposal corrects the ARN and keeps
// the Deny as it was.
func TestWhitespaceFixKeepsDeny(t *testing.T) {
	raw := `{"Version":"2012-10-17","Statement":[
 {"Sid":"PartnerRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: example-bucket-shared/*"},
 {"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::example-bucket-shared/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	d := runFake(t, "s3-policy-arn-whitespace.json", func(r map[string]fakeResponse) {
		r["GetBucketPolicy"] = fakeResponse{status: 200, body: raw}
	})
	if d.Cause != denial.CausePolicyARNWhitespace || d.Fix == nil {
		t.Fatalf("cause %v fix %v; want policy_arn_whitespace with a fix\n%s", d.Cause, d.Fix, evidenceText(d))
	}
	doc, err := policy.Parse([]byte(d.Fix.NewPolicy))
	if err != nil {
		t.Fatalf("new policy: %v", err)
	}
	if got := doc.Statements[0].Resource[0]; got != "arn:aws:s3:::example-bucket-shared/*" {
		t.Errorf("corrected resource: got %q", got)
	}
	if want := strings.Replace(raw, "arn:aws:s3::: example", "arn:aws:s3:::example", 1); d.Fix.NewPolicy != want {
		t.Errorf("new policy changed more than the ARN:\n%s\nwant\n%s", d.Fix.NewPolicy, want)
	}
	if len(d.Fix.PolicySHA256) != 64 || d.Fix.Kind.AutoAllowed() {
		t.Errorf("fix %+v: want the SHA-256 of the policy read, approval only", d.Fix)
	}
}

// TestDecideEncryptionTypeBlockedSteps: the steps say how to write without
// SSE-C and, failing that, the exact command that allows SSE-C again.
func TestDecideEncryptionTypeBlockedSteps(t *testing.T) {
	rec := loadEvent(t, "s3-encryption-type-blocked.json")
	exp, _ := denial.Explain(rec)
	target, _ := s3probe.NewTarget(rec)
	d := diagnosis.Decide(exp, &target, []s3probe.Check{check(s3probe.CheckEncryptionType, s3probe.ResultFail, s3probe.Facts{})})
	if d.Cause != denial.CauseEncryptionTypeBlocked {
		t.Fatalf("cause: got %v; want %v", d.Cause, denial.CauseEncryptionTypeBlocked)
	}
	if !strings.Contains(d.Summary, "example-vault-archive") || !strings.Contains(d.Summary, "SSE-C") || !strings.Contains(d.Summary, "PutObject") {
		t.Errorf("summary %q: want the bucket, SSE-C and the operation named", d.Summary)
	}
	steps := strings.Join(d.NextSteps, "\n")
	for _, want := range []string{
		"--sse AES256",
		"--sse aws:kms",
		"aws s3api get-bucket-encryption --bucket example-vault-archive",
		`aws s3api put-bucket-encryption --bucket example-vault-archive --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}}]}'`,
	} {
		if !strings.Contains(steps, want) {
			t.Errorf("next steps %q: want %q", d.NextSteps, want)
		}
	}
	if !strings.Contains(d.NextSteps[0], "SSE-S3 or SSE-KMS") {
		t.Errorf("first step %q: want writing without SSE-C first", d.NextSteps[0])
	}
	if d.Fix != nil {
		t.Errorf("fix %+v: unblocking an encryption type is not in the fix catalogue", d.Fix)
	}
}
