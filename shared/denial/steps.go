package denial

import (
	"fmt"
	"strings"
)

// policyNames are the words a person reads for each policy type.
var policyNames = [...]string{
	PolicyUnknown:             "policy",
	PolicyIdentityBased:       "identity-based policy",
	PolicyResourceBased:       "resource-based policy",
	PolicyPermissionsBoundary: "permissions boundary",
	PolicySession:             "session policy",
	PolicySCP:                 "service control policy (SCP)",
	PolicyRCP:                 "resource control policy (RCP)",
	PolicyVPCEndpoint:         "VPC endpoint policy",
	PolicyRoleTrust:           "role trust policy",
}

// Phrase returns the policy type as a person reads it, e.g. "service control
// policy (SCP)".
func (p PolicyType) Phrase() string { return enumName(policyNames[:], int(p)) }

// facts are the explanation's fields with readable stand-ins for absent ones.
type facts struct {
	who, action, resource, account, region, service string
	principalARN                                    string
}

func factsOf(e *Explanation) facts {
	f := facts{
		who:          deref(e.Principal, "the caller"),
		action:       deref(e.Action, "the action"),
		resource:     deref(e.Resource, ""),
		account:      deref(e.Account, "ACCOUNT_ID"),
		region:       deref(e.Region, "REGION"),
		service:      deref(e.Service, ""),
		principalARN: deref(e.Principal, ""),
	}
	return f
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// summary is one sentence a person understands.
func summary(e *Explanation, m Message) string {
	f := factsOf(e)
	on := ""
	if f.resource != "" {
		on = " on " + f.resource
	}
	pt := e.PolicyType.Phrase()
	if e.Via != nil {
		pt += ", reached through a " + e.Via.Phrase() + ","
	}
	switch {
	case e.Cause == CausePresignedURLExpired:
		return fmt.Sprintf("The request for %s%s was signed for a time that has passed: the presigned URL or its credentials expired.", f.action, on)
	case e.DenyKind == DenyExplicit && e.PolicyType != PolicyUnknown:
		return fmt.Sprintf("An explicit Deny in a %s denied %s to %s%s; no Allow can override it.", pt, f.action, f.who, on)
	case e.DenyKind == DenyExplicit:
		return fmt.Sprintf("An explicit Deny denied %s to %s%s; the message does not say which policy type holds it.", f.action, f.who, on)
	case e.DenyKind == DenyImplicit && e.PolicyType != PolicyUnknown:
		return fmt.Sprintf("No %s allows %s for %s%s, so AWS denied it implicitly.", pt, f.action, f.who, on)
	case e.DenyKind == DenyImplicit:
		return fmt.Sprintf("No policy allows %s for %s%s, so AWS denied it implicitly.", f.action, f.who, on)
	case e.Cause == CauseKMS:
		return fmt.Sprintf("KMS refused to let %s use the key behind %s%s: its key policy or grants do not allow the caller, or the key is missing, disabled or in another region.", f.who, f.action, on)
	case m.EncodedAuthorization != "":
		return fmt.Sprintf("AWS denied %s to %s%s; the reason is in the encoded authorization message.", f.action, f.who, on)
	case f.service == "s3":
		return fmt.Sprintf("S3 denied %s to %s%s without saying why; S3 hides the reason, so it must be checked live.", f.action, f.who, on)
	}
	return fmt.Sprintf("AWS denied %s to %s%s; the message does not say which policy denied it.", f.action, f.who, on)
}

// nextSteps are ordered, concrete steps, from the IAM guide (one per policy
// type and deny kind) and the S3 403 guide.
func nextSteps(e *Explanation, m Message) []string {
	f := factsOf(e)
	var steps []string
	if m.EncodedAuthorization != "" {
		steps = append(steps, "Decode the encoded authorization message to see the policy and statement that denied it: aws sts decode-authorization-message --encoded-message "+m.EncodedAuthorization+" --query DecodedMessage --output text")
	}
	if e.Cause == CausePresignedURLExpired {
		return append(steps,
			"Generate a new presigned URL: aws s3 presign "+s3URI(f.resource)+" --expires-in 3600",
			"A URL signed with temporary credentials (a role session) expires when the session does, whatever its expiry says: sign with longer-lived credentials if the URL must live longer.",
			"Check the clock of the signing machine: a skewed clock signs already-expired or not-yet-valid requests.")
	}
	if e.Cause == CauseKMS {
		return append(steps, kmsSteps(f)...)
	}
	if e.PolicyARN != nil && (e.PolicyType == PolicySCP || e.PolicyType == PolicyRCP) {
		steps = append(steps, "Read the policy AWS named: aws organizations describe-policy --policy-id "+policyID(*e.PolicyARN)+" --query Policy.Content --output text")
	}
	switch e.PolicyType {
	case PolicySCP, PolicyRCP:
		steps = append(steps, orgSteps(e, f)...)
	case PolicyVPCEndpoint:
		steps = append(steps, vpcEndpointSteps(e, f)...)
	case PolicyPermissionsBoundary:
		steps = append(steps, boundarySteps(e, f)...)
	case PolicySession:
		steps = append(steps, sessionSteps(e, f)...)
	case PolicyResourceBased:
		steps = append(steps, resourcePolicySteps(e, f)...)
	case PolicyRoleTrust:
		steps = append(steps, trustSteps(e, f)...)
	case PolicyIdentityBased:
		steps = append(steps, identitySteps(e, f)...)
	default:
		if f.service == "s3" && e.DenyKind == DenyUnknown {
			steps = append(steps, s3Checklist(f)...)
		} else {
			steps = append(steps, unknownSteps(e, f)...)
		}
	}
	if e.Via != nil {
		steps = append(steps, fmt.Sprintf("The request went through a %s: after fixing the %s, also check that the %s allows %s.", e.Via.Phrase(), e.PolicyType.Phrase(), e.Via.Phrase(), f.action))
	}
	return steps
}

func kmsSteps(f facts) []string {
	return []string{
		"Find the key: the service's resource (queue, topic, parameter, object) names it, e.g. aws sqs get-queue-attributes --queue-url QUEUE_URL --attribute-names KmsMasterKeyId; check it exists, is enabled and is in region " + f.region + ": aws kms describe-key --key-id KEY_ID",
		"Read the key policy: aws kms get-key-policy --key-id KEY_ID --policy-name default --output text; it must allow " + principalOrCaller(f) + " kms:Decrypt (reads) or kms:GenerateDataKey (writes), or delegate to IAM with the account root principal and an identity-based policy that allows it.",
		"A caller in another account needs both: the key policy naming its account or role, and its own identity-based policy allowing the KMS action on the key ARN.",
		"Check grants when the key policy relies on them: aws kms list-grants --key-id KEY_ID",
	}
}

func orgSteps(e *Explanation, f facts) []string {
	kind, one, filter, account := "service control policies (SCPs)", "SCP", "SERVICE_CONTROL_POLICY", f.account
	if e.PolicyType == PolicyRCP {
		// An RCP applies to the resource's account, not the caller's.
		kind, one, filter = "resource control policies (RCPs)", "RCP", "RESOURCE_CONTROL_POLICY"
		account = arnAccount(f.resource)
		if account == "" && e.EventID != nil {
			account = f.account // a CloudTrail record's account is the resource's
		}
		account = orPlaceholder(account, "RESOURCE_ACCOUNT_ID")
	}
	list := fmt.Sprintf("List the %s on the account, then on each OU above it and the root (from the management account or a delegated administrator): aws organizations list-policies-for-target --target-id %s --filter %s; aws organizations list-parents --child-id %s", kind, account, filter, account)
	if e.DenyKind == DenyExplicit {
		return []string{list,
			fmt.Sprintf("Find the Deny statement matching %s%s and remove it, narrow it, or add an exception (for example a Condition on aws:PrincipalArn); a Deny anywhere on the path wins.", f.action, resourceSuffix(f)),
			"Organization policies do not affect the management account: if the caller is there, look at the other policy types instead."}
	}
	return []string{list,
		fmt.Sprintf("Add an Allow for %s to an %s at every level of the account's path (root, each OU, the account): an action is allowed only when each level allows it.", f.action, one),
		"FullAWSAccess (or RCPFullAWSAccess) attached at every level allows everything; check it was not detached."}
}

func vpcEndpointSteps(e *Explanation, f facts) []string {
	svc := f.service
	if svc == "" {
		svc = "SERVICE"
	}
	read := fmt.Sprintf("Read the endpoint policy of the VPC endpoint the request used: aws ec2 describe-vpc-endpoints --filters Name=service-name,Values=com.amazonaws.%s.%s --query 'VpcEndpoints[].[VpcEndpointId,PolicyDocument]'", f.region, svc)
	if e.DenyKind == DenyExplicit {
		return []string{read, fmt.Sprintf("Remove or narrow the Deny statement for %s%s in that endpoint policy: aws ec2 modify-vpc-endpoint --vpc-endpoint-id VPCE_ID --policy-document file://policy.json", f.action, resourceSuffix(f))}
	}
	return []string{read, fmt.Sprintf("Add an Allow for %s%s to the endpoint policy (aws ec2 modify-vpc-endpoint --vpc-endpoint-id VPCE_ID --policy-document file://policy.json); the default policy allows everything.", f.action, resourceSuffix(f))}
}

func boundarySteps(e *Explanation, f facts) []string {
	steps := []string{"Find the permissions boundary of " + f.who + ": " + iamGet(f.principalARN, "PermissionsBoundary") + ", then read it: aws iam get-policy-version --policy-arn BOUNDARY_ARN --version-id $(aws iam get-policy --policy-arn BOUNDARY_ARN --query Policy.DefaultVersionId --output text)"}
	if e.DenyKind == DenyExplicit {
		return append(steps, fmt.Sprintf("Remove or narrow the Deny statement for %s in the boundary policy; identity policies cannot override it.", f.action))
	}
	return append(steps, fmt.Sprintf("Add an Allow for %s%s to the boundary policy: the effective permissions are the intersection of the identity policies and the boundary.", f.action, resourceSuffix(f)))
}

func sessionSteps(e *Explanation, f facts) []string {
	steps := []string{
		"Find the call that created the session (AssumeRole, AssumeRoleWithSAML/WebIdentity or GetFederationToken) in CloudTrail in the same time window and read requestParameters.policy and policyArns: aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=AssumeRole --max-results 20",
	}
	if e.DenyKind == DenyExplicit {
		return append(steps, fmt.Sprintf("Remove the Deny for %s from the session policy passed with that call (the inline Policy or one of up to 10 PolicyArns), then request new credentials.", f.action))
	}
	return append(steps, fmt.Sprintf("Pass a session policy that allows %s%s, or none: a session's permissions are the intersection of the role's policies and the session policy. Then request new credentials.", f.action, resourceSuffix(f)))
}

func resourcePolicySteps(e *Explanation, f facts) []string {
	read := "Read the resource's policy: " + resourcePolicyCommand(f)
	if e.DenyKind == DenyExplicit {
		return []string{read, fmt.Sprintf("Remove or narrow the Deny statement matching %s for %s (check its Condition: source VPC, IP, MFA, encryption, principal).", f.action, f.who)}
	}
	return []string{read,
		fmt.Sprintf("Add a statement allowing %s to %s%s.", principalOrCaller(f), f.action, resourceSuffix(f)),
		"For a caller in another account, both this resource policy and the caller's identity-based policy must allow the action."}
}

func trustSteps(e *Explanation, f facts) []string {
	role := roleName(f.resource)
	read := "Read the role's trust policy: aws iam get-role --role-name " + role + " --query Role.AssumeRolePolicyDocument"
	if e.DenyKind == DenyExplicit {
		return []string{read, fmt.Sprintf("Remove or narrow the Deny statement in the trust policy that matches %s.", f.who)}
	}
	return []string{read,
		fmt.Sprintf("Add %s as a Principal allowed %s in the trust policy: aws iam update-assume-role-policy --role-name %s --policy-document file://trust.json", principalOrCaller(f), f.action, role),
		"The caller also needs sts:AssumeRole on the role in its own identity-based policy when it is in another account."}
}

func identitySteps(e *Explanation, f facts) []string {
	list := "List the policies of " + f.who + ": " + iamListPolicies(f.principalARN)
	sim := ""
	if f.principalARN != "" && f.action != "the action" {
		sim = fmt.Sprintf("Confirm with the policy simulator: aws iam simulate-principal-policy --policy-source-arn %s --action-names %s", simulatorARN(f.principalARN), f.action)
		if f.resource != "" {
			sim += " --resource-arns " + f.resource
		}
	}
	var steps []string
	if e.DenyKind == DenyExplicit {
		steps = []string{list, fmt.Sprintf("Find the Deny statement matching %s%s (in an attached, inline or group policy) and remove or narrow it; check its Condition keys too.", f.action, resourceSuffix(f))}
	} else {
		steps = []string{list, fmt.Sprintf("Add an Allow for %s%s to a policy of %s; if it has Conditions, the request must meet them.", f.action, resourceSuffix(f), f.who)}
	}
	if sim != "" {
		steps = append(steps, sim)
	}
	return steps
}

func unknownSteps(e *Explanation, f facts) []string {
	steps := []string{
		"Check who made the call: aws sts get-caller-identity (the SDK or CLI may use other credentials than you think).",
	}
	if e.DenyKind == DenyExplicit {
		steps = append(steps, fmt.Sprintf("An explicit Deny matched: look for a Deny statement for %s in each policy type, in the order AWS evaluates them: SCPs and RCPs, the resource's policy, the caller's identity-based policies, its permissions boundary, the session policy, and VPC endpoint policies.", f.action))
	} else {
		steps = append(steps, fmt.Sprintf("Check that an identity-based policy of %s allows %s%s, and that no SCP, RCP, permissions boundary, session policy or VPC endpoint policy lacks an Allow for it.", f.who, f.action, resourceSuffix(f)))
	}
	if f.principalARN != "" && f.action != "the action" {
		steps = append(steps, fmt.Sprintf("Ask the policy simulator: aws iam simulate-principal-policy --policy-source-arn %s --action-names %s", simulatorARN(f.principalARN), f.action))
	}
	steps = append(steps, "For temporary credentials, check they have not expired and that the service accepts them; for hand-signed requests, check the signature.")
	return steps
}

// s3Checklist is the S3 403 guide, in its order, for a bare "Access Denied".
func s3Checklist(f facts) []string {
	bucket, key := s3BucketKey(f.resource)
	b := orPlaceholder(bucket, "BUCKET")
	k := orPlaceholder(key, "KEY")
	return []string{
		"Run `denyfix diagnose EVENT.json` on the CloudTrail event: it performs every check below at once, read-only.",
		"Object ownership: compare the bucket owner's canonical ID (aws s3api list-buckets --query Owner.ID) with the object's owner (aws s3api list-objects-v2 --bucket " + b + " --prefix " + k + " --fetch-owner); if they differ, the object owner runs aws s3api put-object-acl --bucket " + b + " --key " + k + " --acl bucket-owner-full-control, and aws s3api put-bucket-ownership-controls --bucket " + b + " --ownership-controls Rules=[{ObjectOwnership=BucketOwnerEnforced}] prevents it for new objects.",
		"Bucket policy: aws s3api get-bucket-policy --bucket " + b + " --query Policy --output text; look for Deny statements whose conditions the request fails (aws:SourceVpce, aws:SourceIp, aws:MultiFactorAuthPresent, aws:SecureTransport, s3:x-amz-server-side-encryption, aws:PrincipalArn), for a missing Allow (a cross-account caller needs one), and for whitespace or typos in ARNs (\"arn:aws:s3::: " + b + "/*\" never matches).",
		"The caller's identity-based policies and permissions boundary must allow " + f.action + ": aws iam simulate-principal-policy --policy-source-arn " + orPlaceholder(simulatorARN(f.principalARN), "PRINCIPAL_ARN") + " --action-names " + f.action,
		"Block Public Access, for anonymous or public-grant access: aws s3api get-public-access-block --bucket " + b + " and aws s3control get-public-access-block --account-id " + f.account,
		"Credentials: aws sts get-caller-identity shows who is calling (on EC2, the instance role); temporary credentials may carry a session policy (see the AssumeRole event in CloudTrail, requestParameters.policy).",
		"VPC endpoint and access point policies: if the request came through one, its policy must allow the bucket and object too (aws ec2 describe-vpc-endpoints; aws s3control get-access-point-policy --account-id " + f.account + " --name ACCESS_POINT).",
		"Missing object: without s3:ListBucket a missing key answers 403, not 404: aws s3api head-object --bucket " + b + " --key " + k + " (as the bucket owner); keys with spaces or special characters must be URL-encoded exactly.",
		"SSE-KMS: aws s3api head-object --bucket " + b + " --key " + k + " --query SSEKMSKeyId; the key policy must allow kms:Decrypt (reads) or kms:GenerateDataKey (writes) to the caller (aws kms get-key-policy --key-id KEY_ID --policy-name default).",
		"Requester Pays: aws s3api get-bucket-request-payment --bucket " + b + "; cross-account callers must send --request-payer requester.",
		"Organization policies: aws organizations list-policies-for-target --target-id " + f.account + " --filter SERVICE_CONTROL_POLICY (and RESOURCE_CONTROL_POLICY).",
	}
}

func resourcePolicyCommand(f facts) string {
	r := f.resource
	switch f.service {
	case "s3":
		bucket, _ := s3BucketKey(r)
		return "aws s3api get-bucket-policy --bucket " + orPlaceholder(bucket, "BUCKET") + " --query Policy --output text"
	case "kms":
		return "aws kms get-key-policy --key-id " + orPlaceholder(r, "KEY_ID") + " --policy-name default --output text"
	case "sns":
		return "aws sns get-topic-attributes --topic-arn " + orPlaceholder(r, "TOPIC_ARN") + " --query Attributes.Policy --output text"
	case "sqs":
		return "aws sqs get-queue-attributes --queue-url QUEUE_URL --attribute-names Policy"
	case "secretsmanager":
		return "aws secretsmanager get-resource-policy --secret-id " + orPlaceholder(r, "SECRET_ID")
	case "lambda":
		return "aws lambda get-policy --function-name " + orPlaceholder(r, "FUNCTION")
	case "ecr":
		return "aws ecr get-repository-policy --repository-name " + orPlaceholder(lastSegment(r), "REPOSITORY")
	case "logs":
		return "aws logs describe-resource-policies"
	case "execute-api":
		return "aws apigateway get-rest-api --rest-api-id API_ID --query policy --output text"
	}
	return "the policy attached to " + orPlaceholder(r, "the resource") + " (see the service's get-*-policy command)"
}

// iamGet is the command that reads an IAM user's or role's field.
func iamGet(arn, field string) string {
	kind, name := iamEntity(arn)
	switch kind {
	case "user":
		return "aws iam get-user --user-name " + name + " --query User." + field
	case "role":
		return "aws iam get-role --role-name " + name + " --query Role." + field
	}
	return "aws iam get-role --role-name ROLE --query Role." + field + " (or get-user for a user)"
}

func iamListPolicies(arn string) string {
	kind, name := iamEntity(arn)
	switch kind {
	case "user":
		return "aws iam list-attached-user-policies --user-name " + name + "; aws iam list-user-policies --user-name " + name + "; aws iam list-groups-for-user --user-name " + name
	case "role":
		return "aws iam list-attached-role-policies --role-name " + name + "; aws iam list-role-policies --role-name " + name
	}
	return "aws iam list-attached-role-policies --role-name ROLE (or list-attached-user-policies for a user)"
}

// iamEntity returns "user" or "role" and the name from a principal ARN;
// assumed-role sessions map to their role.
func iamEntity(arn string) (kind, name string) {
	_, res, ok := strings.Cut(arn, ":user/")
	if ok && strings.Contains(arn, ":iam::") {
		return "user", lastSegment(res)
	}
	if _, res, ok = strings.Cut(arn, ":role/"); ok {
		return "role", lastSegment(res)
	}
	if _, res, ok = strings.Cut(arn, ":assumed-role/"); ok {
		role, _, _ := strings.Cut(res, "/")
		return "role", role
	}
	return "", ""
}

// simulatorARN is the ARN the policy simulator accepts: a session's role.
func simulatorARN(arn string) string {
	if !strings.Contains(arn, ":assumed-role/") {
		return arn
	}
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 {
		return arn
	}
	role, _, _ := strings.Cut(strings.TrimPrefix(f[5], "assumed-role/"), "/")
	return "arn:" + f[1] + ":iam::" + f[4] + ":role/" + role
}

func roleName(arn string) string {
	if _, res, ok := strings.Cut(arn, ":role/"); ok {
		return lastSegment(res)
	}
	return "ROLE"
}

func policyID(arn string) string {
	id := lastSegment(arn)
	if id == "" {
		return "POLICY_ID"
	}
	return id
}

func lastSegment(s string) string {
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// s3BucketKey splits an S3 ARN or name into bucket and key.
func s3BucketKey(r string) (bucket, key string) {
	if !strings.HasPrefix(r, "arn:") {
		return "", ""
	}
	if i := strings.Index(r, ":::"); i >= 0 {
		bucket, key, _ = strings.Cut(r[i+3:], "/")
	}
	return bucket, key
}

func s3URI(r string) string {
	bucket, key := s3BucketKey(r)
	return "s3://" + orPlaceholder(bucket, "BUCKET") + "/" + orPlaceholder(key, "KEY")
}

func resourceSuffix(f facts) string {
	if f.resource == "" {
		return ""
	}
	return " on " + f.resource
}

func principalOrCaller(f facts) string {
	if f.principalARN == "" {
		return "the calling principal"
	}
	return simulatorARN(f.principalARN)
}

func orPlaceholder(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}
