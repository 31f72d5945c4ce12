package diagnosis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/s3probe"
)

// CheckOtherPolicies is the evidence line for the policies no S3 call can
// read: SCPs, RCPs, permissions boundaries and session policies.
const CheckOtherPolicies = "org_boundary_session_policies"

// Decide picks one cause from the explanation and the checks' evidence.
// target is nil for denials of other services. It is pure.
//
// The order follows AWS's evaluation: an expired signature fails before any
// policy; what the message itself names is certain; then explicit Deny
// statements (bucket policy, access point, VPC endpoint, key policy), a
// bucket that blocks the request's encryption type, and Block Public
// Access; then the missing allows and the S3-specific causes.
// When nothing is conclusive the cause stays the explanation's (possibly
// unknown): never a guess.
func Decide(exp denial.Explanation, target *s3probe.Target, checks []s3probe.Check) Diagnosis {
	d := Diagnosis{Explanation: exp, Evidence: append([]s3probe.Check{}, checks...)}
	if target == nil {
		return d
	}
	d.Evidence = append(d.Evidence, otherPolicies(exp, slices.ContainsFunc(checks, func(c s3probe.Check) bool { return c.Name == CheckSessionPolicy })))
	by := map[string]s3probe.Check{}
	for _, c := range checks {
		by[c.Name] = c
	}
	failed := func(name string) (s3probe.Check, bool) {
		c, ok := by[name]
		return c, ok && c.Result == s3probe.ResultFail
	}
	explicitFail := func(name string) (s3probe.Check, bool) {
		c, ok := failed(name)
		return c, ok && c.Facts.Explicit
	}
	t := *target

	if c, ok := failed(s3probe.CheckPresignedURL); ok {
		return d.with(denial.CausePresignedURLExpired, c.Detail+".", []string{
			"Generate a new presigned URL and use it within its expiry (aws s3 presign s3://" + t.Bucket + "/" + t.Key + " --expires-in SECONDS).",
			"A URL signed with temporary credentials expires with them, whatever --expires-in says: sign with credentials that outlive the URL.",
			"Check the signer's clock: a skewed clock makes URLs expire early or be not yet valid.",
		})
	}
	if cause, ok := fromMessage(exp); ok {
		d = d.with(cause, exp.Summary, exp.NextSteps)
		if cause == denial.CauseBucketPolicyDeny {
			if c, ok := explicitFail(s3probe.CheckBucketPolicyDeny); ok {
				return d.policyDeny(t, c)
			}
		}
		return d
	}
	for _, c := range checks {
		if c.Facts.BucketMissing {
			return d.with(denial.CauseUnknown, fmt.Sprintf("Bucket %s no longer exists, so its configuration cannot be checked: %s.", t.Bucket, c.Detail), []string{
				"Check the bucket name in the request: aws s3api head-bucket --bucket " + t.Bucket,
				"If the bucket was deleted on purpose, update whatever still calls it.",
			})
		}
	}
	if c, ok := explicitFail(s3probe.CheckBucketPolicyDeny); ok {
		return d.policyDeny(t, c)
	}
	if c, ok := explicitFail(s3probe.CheckAccessPoint); ok {
		return d.with(denial.CauseAccessPointPolicy, c.Detail+".", accessPointSteps(t, c))
	}
	if c, ok := explicitFail(s3probe.CheckVPCEndpoint); ok {
		return d.with(denial.CauseVPCEndpointPolicy, c.Detail+".", vpceSteps(t, c))
	}
	if c, ok := explicitFail(s3probe.CheckKMS); ok {
		return d.with(denial.CauseKMS, c.Detail+".", kmsSteps(t, c))
	}
	// A bucket that blocks SSE-C refuses the write whatever any policy
	// allows, as surely as an explicit Deny: no grant anywhere fixes it, so
	// it comes before every missing allow.
	if _, ok := failed(s3probe.CheckEncryptionType); ok {
		return d.with(denial.CauseEncryptionTypeBlocked, fmt.Sprintf("The default encryption configuration of bucket %s blocks SSE-C (customer-provided keys) and this %s sent a customer-provided key, so S3 refused it whatever the policies allow.", t.Bucket, orText(t.Record.EventName, "write")), encryptionTypeSteps(t))
	}
	if c, ok := failed(CheckSessionPolicy); ok {
		return d.with(denial.CauseSessionPolicy, fmt.Sprintf("The session policy of the caller's role session does not let it %s: %s.", t.Action, c.Detail), []string{
			"A session policy can only narrow the role's permissions: start a new session whose --policy (or --policy-arns) allows " + t.Action + " on " + t.ObjectARN() + ", or none at all.",
			"Find who passes the session policy (the AssumeRole caller, e.g. a broker or CI system) and correct it there.",
		})
	}
	if c, ok := failed(s3probe.CheckBlockPublicAccess); ok {
		return d.with(denial.CauseBlockPublicAccess, c.Detail+".", []string{
			"Block Public Access overrides public grants on purpose: serve the content through CloudFront with origin access control, or grant the callers by account instead of to everyone.",
			"Review the settings: aws s3api get-public-access-block --bucket " + t.Bucket + " and aws s3control get-public-access-block --account-id " + orText(t.BucketAccount, "ACCOUNT_ID"),
			"Turn a setting off only after a security review: it exists to stop data leaks.",
		})
	}
	if c, ok := failed(s3probe.CheckRequesterPays); ok {
		return d.with(denial.CauseRequesterPays, fmt.Sprintf("Bucket %s has Requester Pays on: %s.", t.Bucket, c.Detail), []string{
			"Send the request with the payer header: aws s3api get-object --bucket " + t.Bucket + " --key " + orText(t.Key, "KEY") + " --request-payer requester OUTFILE (SDKs: RequestPayer: requester).",
			"The caller's account is billed for the request and the data transfer.",
		})
	}
	if c, ok := failed(s3probe.CheckObjectExists); ok {
		return d.with(denial.CauseMissingObjectMasked, fmt.Sprintf("The object does not exist: %s.", c.Detail), []string{
			"Check the key, including case, spaces and special characters: aws s3api list-objects-v2 --bucket " + t.Bucket + " --prefix " + shellQuote(prefixOf(t.Key)),
			"Grant the caller s3:ListBucket on arn:aws:s3:::" + t.Bucket + " so that missing keys answer 404 Not Found instead of 403.",
		})
	}
	if c, ok := failed(s3probe.CheckObjectOwnership); ok {
		d = d.with(denial.CauseCrossAccountObjectOwnership, fmt.Sprintf("Another account owns object %s in bucket %s and has not granted access: %s.", t.Key, t.Bucket, c.Detail), ownershipSteps(t))
		d.Fix = ownershipFix(exp, t, c)
		return d
	}
	if c, ok := failed(s3probe.CheckPolicyARN); ok && c.Facts.NewPolicy != "" {
		d = d.with(denial.CausePolicyARNWhitespace, fmt.Sprintf("The bucket policy of %s never matches this request because an ARN in it holds whitespace: %s.", t.Bucket, c.Detail), []string{
			"Remove the whitespace from the ARNs of the bucket policy (the proposed fix does exactly that and nothing else).",
			"Review it: aws s3api get-bucket-policy --bucket " + t.Bucket + " --query Policy --output text",
		})
		d.Fix = &fix.Proposal{
			Kind:          fix.KindS3BucketPolicyARNWhitespace,
			Account:       orText(t.BucketAccount, deref(exp.Account)),
			Region:        t.Region,
			Bucket:        t.Bucket,
			Summary:       "Rewrite the bucket policy of " + t.Bucket + " with the whitespace removed from its ARNs; every other character, every Deny included, stays as it is.",
			Command:       "aws s3api put-bucket-policy --bucket " + t.Bucket + " --policy file://policy.json",
			Preconditions: []string{"the bucket policy is unchanged since the diagnosis (SHA-256 " + c.Facts.PolicySHA256 + ")"},
			PolicySHA256:  c.Facts.PolicySHA256,
			NewPolicy:     c.Facts.NewPolicy,
		}
		return d
	}
	if c, ok := failed(s3probe.CheckAccessPoint); ok {
		return d.with(denial.CauseAccessPointPolicy, c.Detail+".", accessPointSteps(t, c))
	}
	if c, ok := failed(s3probe.CheckVPCEndpoint); ok {
		return d.with(denial.CauseVPCEndpointPolicy, c.Detail+".", vpceSteps(t, c))
	}
	if c, ok := failed(s3probe.CheckBucketPolicyAllow); ok {
		return d.with(denial.CauseBucketPolicyMissingAllow, fmt.Sprintf("Bucket %s does not grant this caller access: %s.", t.Bucket, c.Detail), []string{
			fmt.Sprintf("Add an Allow statement to the bucket policy of %s for %s on %s naming the caller (%s).", t.Bucket, t.Action, t.ObjectARN(), orText(t.Request.PrincipalARN, "the principal")),
			"The caller's own account must allow it too, in the caller's identity policy.",
			"Edit: aws s3api get-bucket-policy --bucket " + t.Bucket + " --query Policy --output text > policy.json, then aws s3api put-bucket-policy --bucket " + t.Bucket + " --policy file://policy.json",
		})
	}
	if c, ok := failed(s3probe.CheckKMS); ok {
		return d.with(denial.CauseKMS, c.Detail+".", kmsSteps(t, c))
	}
	return d
}

// with sets the cause, summary and next steps.
func (d Diagnosis) with(cause denial.Cause, summary string, steps []string) Diagnosis {
	d.Cause, d.Summary, d.NextSteps = cause, summary, steps
	return d
}

// policyDeny names the Deny statement and its condition key.
func (d Diagnosis) policyDeny(t s3probe.Target, c s3probe.Check) Diagnosis {
	stmt := orText(c.Sid, "without Sid")
	summary := fmt.Sprintf("Bucket policy statement %q of %s explicitly denies %s", stmt, t.Bucket, t.Action)
	steps := []string{}
	if c.ConditionKey != "" {
		summary += fmt.Sprintf(" because of its %s condition (%s)", c.ConditionKey, c.Detail)
		steps = append(steps, conditionStep(c.ConditionKey, t))
	} else {
		summary += " (" + c.Detail + ")"
	}
	steps = append(steps,
		fmt.Sprintf("Read statement %q: aws s3api get-bucket-policy --bucket %s --query Policy --output text", stmt, t.Bucket),
		fmt.Sprintf("An explicit Deny wins over every Allow: no identity policy can grant this. If statement %q is wrong, the bucket owner corrects its condition.", stmt),
	)
	return d.with(denial.CauseBucketPolicyDeny, summary+".", steps)
}

// conditionStep says what to change on the caller's side for each
// condition key the S3 guide names.
func conditionStep(key string, t s3probe.Target) string {
	switch strings.ToLower(key) {
	case "aws:sourcevpce", "aws:sourcevpc":
		return "Send the request through the VPC endpoint (or VPC) the statement's " + key + " condition allows: check the route tables of the caller's subnet and the endpoint ID in the policy."
	case "aws:sourceip", "aws:vpcsourceip":
		return "Send the request from an address the statement's " + key + " condition allows (through a VPC endpoint aws:SourceIp is absent, so use aws:SourceVpce there)."
	case "aws:multifactorauthpresent", "aws:multifactorauthage":
		return "Use credentials obtained with MFA: aws sts get-session-token --serial-number MFA_ARN --token-code CODE (or assume the role with --serial-number and --token-code)."
	case "aws:securetransport":
		return "Use HTTPS: the endpoint https://s3." + orText(t.Region, "REGION") + ".amazonaws.com (SDKs and the CLI use HTTPS unless told otherwise)."
	case "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id":
		return "Send the encryption headers the statement's " + key + " condition requires, e.g. aws s3 cp FILE s3://" + t.Bucket + "/KEY --sse aws:kms --sse-kms-key-id KEY_ARN."
	case "aws:principalarn", "aws:userid", "aws:principalaccount", "aws:username":
		return "Call as a principal the statement's " + key + " condition allows."
	}
	return "Make the request satisfy the statement's " + key + " condition."
}

// fromMessage is the cause the message itself proves, when it names the
// policy type.
func fromMessage(exp denial.Explanation) (denial.Cause, bool) {
	if exp.Action != nil && strings.HasPrefix(*exp.Action, "kms:") {
		return denial.CauseKMS, true
	}
	pt := exp.PolicyType
	if exp.Via != nil && (*exp.Via == denial.PolicySCP || *exp.Via == denial.PolicyRCP) {
		pt = *exp.Via
	}
	switch pt {
	case denial.PolicySCP, denial.PolicyRCP:
		return denial.CauseOrgPolicyDeny, true
	case denial.PolicyVPCEndpoint:
		return denial.CauseVPCEndpointPolicy, true
	case denial.PolicyPermissionsBoundary:
		return denial.CausePermissionsBoundary, true
	case denial.PolicySession:
		return denial.CauseSessionPolicy, true
	case denial.PolicyIdentityBased:
		return denial.CauseIAMPermissions, true
	case denial.PolicyResourceBased:
		if exp.DenyKind == denial.DenyExplicit {
			return denial.CauseBucketPolicyDeny, true
		}
		return denial.CauseBucketPolicyMissingAllow, true
	}
	return denial.CauseUnknown, false
}

// otherPolicies is the evidence for the policies no S3 call reads.
func otherPolicies(exp denial.Explanation, sessionChecked bool) s3probe.Check {
	c := s3probe.Check{Name: CheckOtherPolicies, Calls: []string{}}
	switch exp.PolicyType {
	case denial.PolicySCP, denial.PolicyRCP, denial.PolicyPermissionsBoundary, denial.PolicySession:
		c.Result = s3probe.ResultFail
		c.Detail = fmt.Sprintf("the message names a %s (%s deny)", exp.PolicyType, exp.DenyKind)
		if exp.PolicyARN != nil {
			c.Detail += ": " + *exp.PolicyARN
		}
	default:
		c.Result = s3probe.ResultUnknown
		c.Detail = "not checked: service and resource control policies, permissions boundaries and session policies are not readable from here, and the message does not name one"
		if sessionChecked {
			c.Detail = "not checked: service and resource control policies and permissions boundaries are not readable from here, and the message does not name one (the session policy is checked from its AssumeRole record)"
		}
	}
	return c
}

func ownershipSteps(t s3probe.Target) []string {
	return []string{
		"The object's owner (the uploading account) grants the bucket owner control: aws s3api put-object-acl --bucket " + t.Bucket + " --key " + shellQuote(t.Key) + " --acl bucket-owner-full-control",
		"For every object, old and new: aws s3api put-bucket-ownership-controls --bucket " + t.Bucket + " --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]' (ACLs stop mattering; the bucket owner owns every object).",
		"Lasting pattern: uploaders assume a role in the bucket's account instead of writing with their own credentials.",
	}
}

// ownershipFix proposes the catalogue's ownership fixes for a bucket the
// event's account owns: enforcing bucket ownership when the bucket ACL
// grants only its owner (so nothing else depends on ACLs), else the per
// object ACL grant.
func ownershipFix(exp denial.Explanation, t s3probe.Target, c s3probe.Check) *fix.Proposal {
	account := deref(exp.Account)
	if t.BucketAccount == "" || t.BucketAccount != account {
		return nil
	}
	if c.Facts.ACLOwnerOnly {
		return &fix.Proposal{
			Kind:          fix.KindS3EnforceBucketOwner,
			Account:       account,
			Region:        t.Region,
			Bucket:        t.Bucket,
			Summary:       "Set Object Ownership of " + t.Bucket + " to BucketOwnerEnforced: the bucket owner owns every object and ACLs no longer decide access.",
			Command:       "aws s3api put-bucket-ownership-controls --bucket " + t.Bucket + " --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
			Preconditions: []string{"the bucket ACL grants only the bucket owner", "Object Ownership is not already BucketOwnerEnforced"},
		}
	}
	return &fix.Proposal{
		Kind:          fix.KindS3ObjectACLBucketOwnerFullControl,
		Region:        t.Region,
		Bucket:        t.Bucket,
		Key:           t.Key,
		Summary:       "Grant the bucket owner full control of " + t.Key + " with the object owner's credentials (the bucket ACL grants others, so enforcing bucket ownership would change their access).",
		Command:       "aws s3api put-object-acl --bucket " + t.Bucket + " --key " + shellQuote(t.Key) + " --acl bucket-owner-full-control",
		Preconditions: []string{"the object exists", "the caller applying it owns the object (canonical ID " + c.Facts.ObjectOwnerID + ")"},
	}
}

// encryptionTypeSteps are the ways out of a blocked SSE-C write: change
// the request (preferred), or have the bucket owner allow SSE-C again. No
// fix is proposed: unblocking an encryption type is not in the catalogue.
func encryptionTypeSteps(t s3probe.Target) []string {
	key := orText(t.Key, "KEY")
	return []string{
		"Write with SSE-S3 or SSE-KMS instead of a customer-provided key: drop the SSE-C parameters (CLI --sse-c/--sse-c-key, SDK SSECustomerAlgorithm/SSECustomerKey) and send none, so the bucket's default encryption applies, or ask for one: aws s3 cp FILE s3://" + t.Bucket + "/" + key + " --sse AES256 (or --sse aws:kms --sse-kms-key-id KEY_ARN).",
		"Objects already stored with SSE-C stay readable with their key; only new SSE-C writes (PutObject, CopyObject, PostObject, multipart uploads) are refused.",
		"Read the setting: aws s3api get-bucket-encryption --bucket " + t.Bucket + " (BlockedEncryptionTypes lists SSE-C; buckets created since April 2026 block it by default).",
		"Only if SSE-C is really needed, the bucket owner allows it again, keeping the bucket's current default algorithm and key in the same call: aws s3api put-bucket-encryption --bucket " + t.Bucket + ` --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}}]}'`,
	}
}

func accessPointSteps(t s3probe.Target, c s3probe.Check) []string {
	return []string{
		"Read the access point policy: aws s3control get-access-point-policy --account-id ACCOUNT_ID --name NAME (from " + t.AccessPoint + ").",
		"An access point grant works only when the bucket policy also allows it (typically by delegating to access points with the s3:DataAccessPointAccount condition).",
		"Add the missing Allow (or correct the Deny's condition) in the access point policy for " + t.Action + ".",
	}
}

func vpceSteps(t s3probe.Target, c s3probe.Check) []string {
	id := t.Record.VPCEndpointID
	return []string{
		"Read the endpoint policy: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids " + id + " --query 'VpcEndpoints[0].PolicyDocument'",
		"The endpoint policy must allow " + t.Action + " on " + t.ObjectARN() + " (arn:aws:s3:::" + t.Bucket + " and arn:aws:s3:::" + t.Bucket + "/*).",
		"The endpoint's owner changes it: aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + id + " --policy-document file://policy.json",
	}
}

func kmsSteps(t s3probe.Target, c s3probe.Check) []string {
	key := orText(c.Facts.KeyID, "KEY_ID")
	action := "kms:Decrypt"
	if t.IsWrite() {
		action = "kms:GenerateDataKey"
	}
	return []string{
		"Read the key policy: aws kms get-key-policy --key-id " + key + " --policy-name default --output text",
		"The key policy must allow " + action + " to the caller (" + orText(t.Request.PrincipalARN, "the principal") + ") or delegate to IAM in the caller's account (Principal arn:aws:iam::ACCOUNT:root), and then the caller's IAM policy must allow " + action + " on " + key + ".",
		"Cross-account callers need both: the key policy in the key's account and an IAM policy in their own.",
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func prefixOf(key string) string {
	if i := strings.LastIndex(key, "/"); i >= 0 {
		return key[:i+1]
	}
	return ""
}

// shellQuote quotes a key for a shell command when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\"$`\\*?&;|<>()!#") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
