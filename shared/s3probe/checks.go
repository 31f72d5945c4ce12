package s3probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/shared/policy"
)

// parallel runs fns concurrently and waits for all of them, so the calls of
// one check cost one round trip, not the sum.
func parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Go(f)
	}
	wg.Wait()
}

func (s *session) presignedURL(context.Context) Check {
	c := Check{Name: CheckPresignedURL, Calls: []string{}}
	msg := strings.ToLower(s.t.Record.ErrorMessage)
	auth := strings.ToLower(string(s.t.Record.AdditionalEventData))
	query := strings.Contains(auth, `"authenticationmethod":"querystring"`)
	switch {
	case strings.Contains(msg, "request has expired"):
		c.Result, c.Detail = ResultFail, "S3 answered \"Request has expired\": the presigned URL (or request signature) was used after its X-Amz-Expires window"
	case strings.Contains(msg, "request is not valid yet"):
		c.Result, c.Detail = ResultFail, "S3 answered \"Request is not valid yet\": the signing clock is ahead of S3"
	case query:
		c.Result, c.Detail = ResultPass, "signed in the query string (presigned URL), and S3 did not report it expired"
	default:
		c.Result, c.Detail = ResultSkipped, "not a presigned URL request"
	}
	return c
}

// readPolicy reads and parses the bucket policy. ok is false when the
// check is decided by the read itself: no policy, or an error.
func (s *session) readPolicy(ctx context.Context, name string) (policy.Document, string, Check, bool) {
	calls := []string{"s3:GetBucketPolicy"}
	if s.p.S3 == nil {
		return policy.Document{}, "", Check{Name: name, Result: ResultUnknown, Calls: []string{}, Detail: "no S3 client configured"}, false
	}
	out, err := s.bucketPolicy.get()
	if err != nil {
		if errorCode(err) == "NoSuchBucketPolicy" {
			return policy.Document{}, "", Check{Name: name, Result: ResultPass, Calls: calls, Detail: "the bucket has no bucket policy"}, false
		}
		return policy.Document{}, "", failed(name, calls, "s3:GetBucketPolicy", err), false
	}
	raw := aws.ToString(out.Policy)
	doc, err := policy.Parse([]byte(raw))
	if err != nil {
		return policy.Document{}, raw, Check{Name: name, Result: ResultUnknown, Calls: calls, Detail: fmt.Sprintf("the bucket policy cannot be read: %v", err)}, false
	}
	return doc, raw, Check{Name: name, Calls: calls}, true
}

// firstOfEffect returns, among the statements of one effect (Deny, or
// Allow), the first that matches the request and the first whose match could
// not be evaluated.
func firstOfEffect(results []policy.Result, deny bool) (match, unknown *policy.Result) {
	for i := range results {
		r := &results[i]
		if r.Statement.IsDeny() != deny {
			continue
		}
		switch {
		case r.Outcome == policy.Matches:
			return r, unknown
		case r.Outcome == policy.NotEvaluable && unknown == nil:
			unknown = r
		}
	}
	return nil, unknown
}

func (s *session) bucketPolicyDeny(ctx context.Context) Check {
	doc, _, c, ok := s.readPolicy(ctx, CheckBucketPolicyDeny)
	if !ok {
		if c.Result == ResultPass {
			c.Detail = "the bucket has no bucket policy, so no Deny in it"
		}
		return c
	}
	match, unknown := firstOfEffect(policy.Evaluate(doc, s.t.Request), true)
	if r := match; r != nil {
		c.Result, c.Sid, c.ConditionKey = ResultFail, r.Statement.Sid, r.Key()
		c.Facts.Explicit = true
		c.Detail = fmt.Sprintf("Deny statement %q applies to %s on %s", r.Name(), s.t.Request.Action, s.t.ObjectARN())
		if r.Key() != "" {
			c.Detail += ": " + r.Reason
		}
		return c
	}
	if unknown != nil {
		c.Result, c.Sid, c.ConditionKey = ResultUnknown, unknown.Statement.Sid, unknown.Key()
		c.Detail = fmt.Sprintf("Deny statement %q may apply: %s", unknown.Name(), unknown.Reason)
		return c
	}
	c.Result, c.Detail = ResultPass, fmt.Sprintf("no Deny statement of the bucket policy applies to %s", s.t.Request.Action)
	return c
}

func (s *session) bucketPolicyAllow(ctx context.Context) Check {
	if !s.t.CrossAccount() {
		reason := "the caller is in the bucket's account: an identity policy can grant access without the bucket policy"
		if s.t.BucketAccount == "" {
			reason = "the bucket's account is not in the event, so whether the bucket policy must grant access is unknown"
			return Check{Name: CheckBucketPolicyAllow, Result: ResultUnknown, Calls: []string{}, Detail: reason}
		}
		return Check{Name: CheckBucketPolicyAllow, Result: ResultSkipped, Calls: []string{}, Detail: reason}
	}
	doc, _, c, ok := s.readPolicy(ctx, CheckBucketPolicyAllow)
	who := "account " + s.t.CallerAccount
	if s.t.Anonymous {
		who = "anonymous callers"
	}
	if !ok {
		if c.Result == ResultPass {
			c.Result, c.Detail = ResultFail, fmt.Sprintf("the bucket has no bucket policy, so nothing grants %s to %s from outside the bucket's account", s.t.Request.Action, who)
		}
		return c
	}
	match, unknown := firstOfEffect(policy.Evaluate(doc, s.t.Request), false)
	if match != nil {
		c.Result, c.Sid = ResultPass, match.Statement.Sid
		c.Detail = fmt.Sprintf("Allow statement %q grants %s to the caller", match.Name(), s.t.Request.Action)
		return c
	}
	if unknown != nil {
		c.Result, c.Sid, c.ConditionKey = ResultUnknown, unknown.Statement.Sid, unknown.Key()
		c.Detail = fmt.Sprintf("Allow statement %q may grant access: %s", unknown.Name(), unknown.Reason)
		return c
	}
	c.Result = ResultFail
	c.Detail = fmt.Sprintf("no Allow statement of the bucket policy grants %s on %s to %s", s.t.Request.Action, s.t.ObjectARN(), who)
	for _, p := range policy.Lint(doc) {
		if p.Kind == policy.ProblemBucketVsObject {
			c.Detail += "; " + p.Detail
		}
	}
	return c
}

func (s *session) policyARNs(ctx context.Context) Check {
	doc, raw, c, ok := s.readPolicy(ctx, CheckPolicyARN)
	if !ok {
		if c.Result == ResultPass {
			c.Detail = "the bucket has no bucket policy"
		}
		return c
	}
	sum := sha256.Sum256([]byte(raw))
	c.Facts.PolicySHA256 = hex.EncodeToString(sum[:])
	var relevant, other []string
	for _, p := range policy.Lint(doc) {
		if p.Kind == policy.ProblemWhitespace && s.affects(p) {
			relevant = append(relevant, fmt.Sprintf("statement %q: %s", p.Sid, p.Detail))
			c.Sid = doc.Statements[p.Index].Sid
			continue
		}
		other = append(other, fmt.Sprintf("statement %q: %s", p.Sid, p.Detail))
	}
	if len(relevant) > 0 {
		if fixed, changed := policy.RemoveARNWhitespace([]byte(raw), doc); changed {
			c.Facts.NewPolicy = string(fixed)
		}
		c.Result, c.Detail = ResultFail, strings.Join(append(relevant, other...), "; ")
		return c
	}
	if len(other) > 0 {
		c.Result, c.Detail = ResultPass, "no ARN mistake concerns this request; others: "+strings.Join(other, "; ")
		return c
	}
	c.Result, c.Detail = ResultPass, "every Resource and Principal ARN is well formed"
	return c
}

// affects reports whether the corrected value of a whitespace problem would
// name this request's resource or caller: only then is it this denial's cause.
func (s *session) affects(p policy.Problem) bool {
	switch p.Element {
	case "Resource", "NotResource":
		for _, r := range s.t.Request.Resources {
			if policy.Match(p.Corrected, r, false) {
				return true
			}
		}
	case "Principal", "NotPrincipal":
		if p.Corrected == s.t.Request.PrincipalARN || p.Corrected == s.t.CallerAccount || p.Corrected == "arn:aws:iam::"+s.t.CallerAccount+":root" {
			return true
		}
	}
	return false
}

func (s *session) blockPublicAccess(ctx context.Context) Check {
	c := Check{Name: CheckBlockPublicAccess, Calls: []string{}}
	if !s.t.CrossAccount() {
		c.Result, c.Detail = ResultSkipped, "Block Public Access only stops public (anonymous or any-account) grants; the caller is in the bucket's account"
		if s.t.BucketAccount == "" {
			c.Result, c.Detail = ResultUnknown, "the bucket's account is not in the event"
		}
		return c
	}
	if s.p.S3 == nil {
		c.Detail = "no S3 client configured"
		return c
	}
	var bucketOut *s3.GetPublicAccessBlockOutput
	var acctOut *s3control.GetPublicAccessBlockOutput
	var bucketErr, acctErr error
	c.Calls = append(c.Calls, "s3:GetPublicAccessBlock")
	fetchAcct := s.p.S3Control != nil && s.t.BucketAccount != ""
	if fetchAcct {
		c.Calls = append(c.Calls, "s3control:GetPublicAccessBlock")
	}
	parallel(func() {
		bucketOut, bucketErr = call(ctx, s.p, func(ctx context.Context) (*s3.GetPublicAccessBlockOutput, error) {
			return s.p.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &s.t.Bucket}, s.s3opts)
		})
	}, func() {
		if !fetchAcct {
			return
		}
		acctOut, acctErr = call(ctx, s.p, func(ctx context.Context) (*s3control.GetPublicAccessBlockOutput, error) {
			return s.p.S3Control.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: &s.t.BucketAccount})
		})
	})
	var ignoreACLs, restrict bool
	var where []string
	var unknown []string
	if bucketErr == nil && bucketOut.PublicAccessBlockConfiguration != nil {
		cfg := bucketOut.PublicAccessBlockConfiguration
		if aws.ToBool(cfg.IgnorePublicAcls) || aws.ToBool(cfg.RestrictPublicBuckets) {
			where = append(where, "bucket")
		}
		ignoreACLs = ignoreACLs || aws.ToBool(cfg.IgnorePublicAcls)
		restrict = restrict || aws.ToBool(cfg.RestrictPublicBuckets)
	} else if bucketErr != nil && errorCode(bucketErr) != "NoSuchPublicAccessBlockConfiguration" {
		f := failed(CheckBlockPublicAccess, nil, "s3:GetPublicAccessBlock", bucketErr)
		if f.Facts.BucketMissing {
			f.Calls = c.Calls
			return f
		}
		unknown = append(unknown, f.Detail)
	}
	if acctErr == nil && acctOut != nil && acctOut.PublicAccessBlockConfiguration != nil {
		cfg := acctOut.PublicAccessBlockConfiguration
		if aws.ToBool(cfg.IgnorePublicAcls) || aws.ToBool(cfg.RestrictPublicBuckets) {
			where = append(where, "account "+s.t.BucketAccount)
		}
		ignoreACLs = ignoreACLs || aws.ToBool(cfg.IgnorePublicAcls)
		restrict = restrict || aws.ToBool(cfg.RestrictPublicBuckets)
	} else if acctErr != nil && errorCode(acctErr) != "NoSuchPublicAccessBlockConfiguration" {
		unknown = append(unknown, failed(CheckBlockPublicAccess, nil, "s3control:GetPublicAccessBlock", acctErr).Detail)
	} else if !fetchAcct {
		unknown = append(unknown, "the account-level setting was not read (account unknown)")
	}
	public := s.publicPolicy()
	switch {
	case s.t.Anonymous && (ignoreACLs || restrict):
		c.Result = ResultFail
		c.Detail = fmt.Sprintf("Block Public Access (%s) blocks anonymous access: IgnorePublicAcls=%t RestrictPublicBuckets=%t", strings.Join(where, ", "), ignoreACLs, restrict)
	case !s.t.Anonymous && restrict && public:
		c.Result = ResultFail
		c.Detail = fmt.Sprintf("RestrictPublicBuckets (%s) limits this bucket's public policy to its own account, so account %s is refused", strings.Join(where, ", "), s.t.CallerAccount)
	case len(unknown) > 0:
		c.Result, c.Detail = ResultUnknown, strings.Join(unknown, "; ")
	default:
		c.Result, c.Detail = ResultPass, "Block Public Access does not block this request"
	}
	return c
}

// publicPolicy reports whether the bucket policy grants to everyone
// without conditions, which RestrictPublicBuckets then confines.
func (s *session) publicPolicy() bool {
	out, err := s.bucketPolicy.get()
	if err != nil {
		return false
	}
	doc, err := policy.Parse([]byte(aws.ToString(out.Policy)))
	if err != nil {
		return false
	}
	for _, st := range doc.Statements {
		if st.IsDeny() || st.Principal == nil || len(st.Condition) > 0 {
			continue
		}
		if st.Principal.Any {
			return true
		}
		for _, v := range st.Principal.ByType["AWS"] {
			if v == "*" {
				return true
			}
		}
	}
	return false
}

// objectRead starts a check that only object reads need: ok is false when
// the check stops there (skipped, or unknown without an S3 client).
func (s *session) objectRead(name, skipped string) (Check, bool) {
	c := Check{Name: name, Calls: []string{}}
	switch {
	case s.t.Key == "" || !s.t.IsRead():
		c.Result, c.Detail = ResultSkipped, skipped
		return c, false
	case s.p.S3 == nil:
		c.Detail = "no S3 client configured"
		return c, false
	}
	return c, true
}

func (s *session) objectExists(ctx context.Context) Check {
	c, ok := s.objectRead(CheckObjectExists, "not a read of an object")
	if !ok {
		return c
	}
	c.Calls = []string{"s3:HeadObject"}
	_, err := s.head.get()
	if err == nil {
		c.Result, c.Detail = ResultPass, fmt.Sprintf("object %q exists", s.t.Key)
		return c
	}
	if !isNotFound(err) {
		return failed(CheckObjectExists, c.Calls, "s3:HeadObject", err)
	}
	c.Result = ResultFail
	c.Detail = fmt.Sprintf("object %q does not exist; S3 answers 403 instead of 404 to callers without s3:ListBucket on the bucket", s.t.Key)
	for _, k := range keyVariants(s.t.Key) {
		c.Calls = append(c.Calls, "s3:HeadObject")
		k := k
		if _, err := call(ctx, s.p, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
			return s.p.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.t.Bucket, Key: &k}, s.s3opts)
		}); err == nil {
			c.Detail += fmt.Sprintf("; an object named %q exists: the key's special characters were encoded differently", k)
			break
		}
	}
	return c
}

func (s *session) objectOwnership(ctx context.Context) Check {
	c, ok := s.objectRead(CheckObjectOwnership, "object ownership matters for reads of existing objects")
	if !ok {
		return c
	}
	c.Calls = []string{"s3:GetBucketOwnershipControls", "s3:GetBucketAcl", "s3:ListObjectsV2"}
	var oc *s3.GetBucketOwnershipControlsOutput
	var acl *s3.GetBucketAclOutput
	var list *s3.ListObjectsV2Output
	var ocErr, aclErr, listErr error
	parallel(func() {
		oc, ocErr = call(ctx, s.p, func(ctx context.Context) (*s3.GetBucketOwnershipControlsOutput, error) {
			return s.p.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &s.t.Bucket}, s.s3opts)
		})
	}, func() {
		acl, aclErr = call(ctx, s.p, func(ctx context.Context) (*s3.GetBucketAclOutput, error) {
			return s.p.S3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &s.t.Bucket}, s.s3opts)
		})
	}, func() {
		list, listErr = call(ctx, s.p, func(ctx context.Context) (*s3.ListObjectsV2Output, error) {
			return s.p.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.t.Bucket, Prefix: &s.t.Key, FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(1)}, s.s3opts)
		})
	})
	if ocErr == nil && oc.OwnershipControls != nil {
		for _, r := range oc.OwnershipControls.Rules {
			c.Facts.ObjectOwnership = string(r.ObjectOwnership)
		}
	} else if ocErr != nil && isMissingBucket(ocErr) {
		return failed(CheckObjectOwnership, c.Calls, "s3:GetBucketOwnershipControls", ocErr)
	}
	if c.Facts.ObjectOwnership == string(s3types.ObjectOwnershipBucketOwnerEnforced) {
		c.Result, c.Detail = ResultPass, "Object Ownership is BucketOwnerEnforced: ACLs are off and the bucket owner owns every object"
		return c
	}
	if aclErr != nil {
		return failed(CheckObjectOwnership, c.Calls, "s3:GetBucketAcl", aclErr)
	}
	c.Facts.BucketOwnerID = ownerID(acl.Owner)
	c.Facts.ACLOwnerOnly = ownerOnly(acl.Owner, acl.Grants)
	if listErr != nil {
		return failed(CheckObjectOwnership, c.Calls, "s3:ListObjectsV2", listErr)
	}
	var objOwner string
	found := false
	for _, o := range list.Contents {
		if aws.ToString(o.Key) == s.t.Key {
			found = true
			objOwner = ownerID(o.Owner)
		}
	}
	if !found {
		c.Result, c.Detail = ResultSkipped, fmt.Sprintf("object %q is not in the bucket listing", s.t.Key)
		return c
	}
	if objOwner == "" {
		c.Calls = append(c.Calls, "s3:GetObjectAcl")
		oacl, err := call(ctx, s.p, func(ctx context.Context) (*s3.GetObjectAclOutput, error) {
			return s.p.S3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &s.t.Bucket, Key: &s.t.Key}, s.s3opts)
		})
		switch {
		case err != nil && isDenied(err):
			c.Result = ResultFail
			c.Detail = "the bucket owner cannot read the object's ACL: another account owns the object and has not granted the bucket owner access"
			return c
		case err != nil:
			return failed(CheckObjectOwnership, c.Calls, "s3:GetObjectAcl", err)
		}
		objOwner = ownerID(oacl.Owner)
	}
	c.Facts.ObjectOwnerID = objOwner
	if objOwner != "" && objOwner != c.Facts.BucketOwnerID && s.t.CrossAccount() && !s.t.Anonymous {
		// The caller's account may be the very account that owns the
		// object, and its canonical ID is not in the event: another owner
		// than the bucket's proves nothing about this caller.
		c.Result = ResultUnknown
		c.Detail = fmt.Sprintf("object %q is owned by canonical user %s, not by the bucket owner %s; whether that is the caller's account %s is not known from here", s.t.Key, objOwner, c.Facts.BucketOwnerID, s.t.CallerAccount)
		return c
	}
	if objOwner != "" && objOwner != c.Facts.BucketOwnerID {
		// Another account owns the object; it denies the bucket's account
		// only if its ACL grants the bucket owner no read access. An ACL the
		// bucket owner cannot even read is itself that evidence.
		c.Calls = append(c.Calls, "s3:GetObjectAcl")
		oacl, err := call(ctx, s.p, func(ctx context.Context) (*s3.GetObjectAclOutput, error) {
			return s.p.S3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &s.t.Bucket, Key: &s.t.Key}, s.s3opts)
		})
		switch {
		case err != nil && isDenied(err):
			c.Result = ResultFail
			c.Detail = fmt.Sprintf("object %q is owned by canonical user %s, not by the bucket owner %s, and the bucket owner cannot even read its ACL", s.t.Key, objOwner, c.Facts.BucketOwnerID)
			return c
		case err != nil:
			return failed(CheckObjectOwnership, c.Calls, "s3:GetObjectAcl", err)
		case grantsRead(oacl.Grants, c.Facts.BucketOwnerID):
			c.Result = ResultPass
			c.Detail = fmt.Sprintf("object %q is owned by canonical user %s, but its ACL grants the bucket owner read access", s.t.Key, objOwner)
			return c
		}
		c.Result = ResultFail
		c.Detail = fmt.Sprintf("object %q is owned by canonical user %s, not by the bucket owner %s, and its ACL grants the bucket owner nothing: the object's ACL, not the bucket policy, governs it", s.t.Key, objOwner, c.Facts.BucketOwnerID)
		return c
	}
	c.Result, c.Detail = ResultPass, "the bucket owner owns the object"
	return c
}

// grantsRead reports whether grants give the canonical user read access
// (READ or FULL_CONTROL).
func grantsRead(grants []s3types.Grant, id string) bool {
	for _, g := range grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.ID) == id &&
			(g.Permission == s3types.PermissionRead || g.Permission == s3types.PermissionFullControl) {
			return true
		}
	}
	return false
}

func ownerID(o *s3types.Owner) string {
	if o == nil {
		return ""
	}
	return aws.ToString(o.ID)
}

// ownerOnly reports whether an ACL grants nothing to anyone but its owner.
func ownerOnly(owner *s3types.Owner, grants []s3types.Grant) bool {
	id := ownerID(owner)
	for _, g := range grants {
		if g.Grantee == nil || g.Grantee.Type != s3types.TypeCanonicalUser || aws.ToString(g.Grantee.ID) != id {
			return false
		}
	}
	return id != ""
}

func (s *session) kmsKeyPolicy(ctx context.Context) Check {
	c := Check{Name: CheckKMS, Calls: []string{}}
	if !s.t.IsRead() && !s.t.IsWrite() {
		c.Result, c.Detail = ResultSkipped, "SSE-KMS matters for object reads and writes"
		return c
	}
	if s.p.S3 == nil {
		c.Detail = "no S3 client configured"
		return c
	}
	var keyID, kmsAction string
	if s.t.IsRead() {
		kmsAction = "kms:Decrypt"
		if s.t.Key == "" {
			c.Result, c.Detail = ResultSkipped, "no object key in the event"
			return c
		}
		c.Calls = append(c.Calls, "s3:HeadObject")
		head, err := s.head.get()
		if err != nil {
			if isNotFound(err) {
				c.Result, c.Detail = ResultSkipped, "the object does not exist"
				return c
			}
			return failed(CheckKMS, c.Calls, "s3:HeadObject", err)
		}
		if !strings.HasPrefix(string(head.ServerSideEncryption), "aws:kms") {
			c.Result, c.Detail = ResultPass, fmt.Sprintf("the object is not encrypted with KMS (%s)", orNone(string(head.ServerSideEncryption)))
			return c
		}
		keyID = aws.ToString(head.SSEKMSKeyId)
	} else {
		kmsAction = "kms:GenerateDataKey"
		if sseC, _ := s.t.CustomerKey(); sseC {
			// S3 encrypts with the key the request carries: the bucket's
			// default KMS key is not used, so its policy cannot be the cause.
			c.Result, c.Detail = ResultPass, "the request brings its own key (SSE-C): no KMS key is involved"
			return c
		}
		if v, st := s.t.Request.Lookup("s3:x-amz-server-side-encryption-aws-kms-key-id"); st == policy.KeyPresent && len(v) > 0 {
			keyID = v[0]
		} else {
			c.Calls = append(c.Calls, "s3:GetBucketEncryption")
			enc, err := s.encryption.get()
			if err != nil {
				if errorCode(err) == "ServerSideEncryptionConfigurationNotFoundError" {
					c.Result, c.Detail = ResultPass, "the bucket has no default KMS encryption"
					return c
				}
				return failed(CheckKMS, c.Calls, "s3:GetBucketEncryption", err)
			}
			kmsDefault := false
			if enc.ServerSideEncryptionConfiguration != nil {
				for _, r := range enc.ServerSideEncryptionConfiguration.Rules {
					if d := r.ApplyServerSideEncryptionByDefault; d != nil && strings.HasPrefix(string(d.SSEAlgorithm), "aws:kms") {
						kmsDefault = true
						keyID = aws.ToString(d.KMSMasterKeyID)
					}
				}
			}
			if !kmsDefault {
				c.Result, c.Detail = ResultPass, "the bucket's default encryption does not use KMS"
				return c
			}
		}
	}
	c.Facts.KeyID = keyID
	if keyID == "" || strings.Contains(keyID, "alias/aws/s3") {
		if s.t.CrossAccount() {
			c.Result, c.Detail = ResultFail, "the object uses the AWS managed key aws/s3, which no other account can use: re-encrypt with a customer managed key"
			return c
		}
		c.Result, c.Detail = ResultPass, "the AWS managed key aws/s3 allows every principal of its account"
		return c
	}
	if s.p.KMS == nil {
		c.Detail = fmt.Sprintf("key %s: no KMS client configured", keyID)
		return c
	}
	c.Calls = append(c.Calls, "kms:GetKeyPolicy")
	out, err := call(ctx, s.p, func(ctx context.Context) (*kms.GetKeyPolicyOutput, error) {
		return s.p.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default")}, func(o *kms.Options) {
			// A key ARN names its region; ask that region, not the caller's.
			if parts := strings.SplitN(keyID, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[3] != "" {
				o.Region = parts[3]
			}
		})
	})
	if err != nil {
		f := failed(CheckKMS, c.Calls, "kms:GetKeyPolicy", err)
		f.Detail = fmt.Sprintf("key %s: %s", keyID, f.Detail)
		f.Facts.KeyID = keyID
		return f
	}
	doc, err := policy.Parse([]byte(aws.ToString(out.Policy)))
	if err != nil {
		c.Detail = fmt.Sprintf("key %s: key policy cannot be read: %v", keyID, err)
		return c
	}
	req := s.t.Request
	req.Action, req.Resources = kmsAction, []string{keyID}
	var allow *policy.Result
	delegated := false
	for _, r := range policy.Evaluate(doc, req) {
		if r.Outcome != policy.Matches {
			continue
		}
		if r.Statement.IsDeny() {
			c.Result, c.Sid, c.ConditionKey = ResultFail, r.Statement.Sid, r.Key()
			c.Facts.Explicit = true
			c.Detail = fmt.Sprintf("key %s: key policy statement %q denies %s", keyID, r.Name(), kmsAction)
			return c
		}
		if namesRoot(r.Statement, s.t.CallerAccount) {
			delegated = true
			continue
		}
		r := r
		allow = &r
	}
	switch {
	case allow != nil:
		c.Result, c.Sid = ResultPass, allow.Statement.Sid
		c.Detail = fmt.Sprintf("key %s: key policy statement %q allows %s to the caller", keyID, allow.Name(), kmsAction)
	case delegated:
		c.Result = ResultUnknown
		c.Detail = fmt.Sprintf("key %s: the key policy delegates to IAM in account %s; the caller's IAM policy must allow %s on the key", keyID, s.t.CallerAccount, kmsAction)
	default:
		c.Result = ResultFail
		c.Detail = fmt.Sprintf("key %s: the key policy neither names the caller nor delegates to IAM in its account, so %s is denied", keyID, kmsAction)
	}
	return c
}

// namesRoot reports whether an Allow statement grants to an account root
// ("delegates to IAM") rather than to the caller itself.
func namesRoot(st policy.Statement, account string) bool {
	if st.Principal == nil || account == "" {
		return false
	}
	for _, v := range st.Principal.ByType["AWS"] {
		if v == account || v == "arn:aws:iam::"+account+":root" {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none reported"
	}
	return s
}

func (s *session) requesterPays(ctx context.Context) Check {
	c := Check{Name: CheckRequesterPays, Calls: []string{"s3:GetBucketRequestPayment"}}
	if s.p.S3 == nil {
		c.Calls, c.Detail = []string{}, "no S3 client configured"
		return c
	}
	out, err := call(ctx, s.p, func(ctx context.Context) (*s3.GetBucketRequestPaymentOutput, error) {
		return s.p.S3.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: &s.t.Bucket}, s.s3opts)
	})
	if err != nil {
		return failed(CheckRequesterPays, c.Calls, "s3:GetBucketRequestPayment", err)
	}
	payer, st := s.t.Request.Lookup("x-amz-request-payer")
	sent := st == policy.KeyPresent && len(payer) > 0 && strings.EqualFold(payer[0], "requester")
	switch out.Payer {
	case s3types.PayerBucketOwner:
		c.Result, c.Detail = ResultPass, "the bucket owner pays for requests"
	case s3types.PayerRequester:
		switch {
		case s.t.Anonymous:
			c.Result, c.Detail = ResultFail, "Requester Pays is on: anonymous requests are refused"
		case !s.t.CrossAccount() && s.t.BucketAccount != "":
			c.Result, c.Detail = ResultPass, "Requester Pays is on, but the bucket owner's own requests need no x-amz-request-payer"
		case sent:
			c.Result, c.Detail = ResultPass, "Requester Pays is on and the request sent x-amz-request-payer: requester"
		case st == policy.KeyUnknown:
			c.Result, c.Detail = ResultUnknown, "Requester Pays is on; the event does not show whether x-amz-request-payer was sent"
		default:
			c.Result, c.Detail = ResultFail, "Requester Pays is on and the request did not send x-amz-request-payer: requester (--request-payer requester)"
		}
	default:
		c.Result, c.Detail = ResultUnknown, "S3 did not say who pays for requests"
	}
	return c
}

func (s *session) accessPoint(ctx context.Context) Check {
	c := Check{Name: CheckAccessPoint, Calls: []string{}}
	if s.t.AccessPoint == "" {
		c.Result, c.Detail = ResultSkipped, "the request did not come through an access point"
		return c
	}
	parts := strings.SplitN(s.t.AccessPoint, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "accesspoint/") {
		c.Detail = fmt.Sprintf("access point ARN %q is not understood", s.t.AccessPoint)
		return c
	}
	account, name := parts[4], strings.TrimPrefix(parts[5], "accesspoint/")
	if s.p.S3Control == nil {
		c.Detail = "no S3 Control client configured"
		return c
	}
	c.Calls = []string{"s3control:GetAccessPointPolicy"}
	out, err := call(ctx, s.p, func(ctx context.Context) (*s3control.GetAccessPointPolicyOutput, error) {
		return s.p.S3Control.GetAccessPointPolicy(ctx, &s3control.GetAccessPointPolicyInput{AccountId: &account, Name: &name})
	})
	crossAccount := s.t.Anonymous || s.t.CallerAccount != account
	if err != nil {
		if errorCode(err) == "NoSuchAccessPointPolicy" {
			if crossAccount {
				c.Result, c.Detail = ResultFail, fmt.Sprintf("access point %s has no policy, so it grants nothing to callers outside account %s", name, account)
			} else {
				c.Result, c.Detail = ResultPass, fmt.Sprintf("access point %s has no policy; the caller's identity policy decides", name)
			}
			return c
		}
		return failed(CheckAccessPoint, c.Calls, "s3control:GetAccessPointPolicy", err)
	}
	doc, err := policy.Parse([]byte(aws.ToString(out.Policy)))
	if err != nil {
		c.Detail = fmt.Sprintf("access point %s policy cannot be read: %v", name, err)
		return c
	}
	req := s.t.Request
	res := s.t.AccessPoint
	if s.t.Key != "" && IsObjectAction(s.t.Action) {
		res += "/object/" + s.t.Key
	}
	req.Resources = []string{res}
	return PolicyVerdict(c, doc, req, "access point "+name, crossAccount)
}

// PolicyVerdict completes check c with the verdict of a policy that may
// deny the request and, with mustAllow, must also allow it (an access point
// policy for other accounts, a VPC endpoint or session policy always): the
// first matching Deny fails it, a statement that cannot be evaluated makes
// it unknown, a matching Allow passes it. where names the policy.
func PolicyVerdict(c Check, doc policy.Document, req policy.Request, where string, mustAllow bool) Check {
	var allow, unknown *policy.Result
	for _, r := range policy.Evaluate(doc, req) {
		r := r
		switch {
		case r.Outcome == policy.Matches && r.Statement.IsDeny():
			c.Result, c.Sid, c.ConditionKey = ResultFail, r.Statement.Sid, r.Key()
			c.Facts.Explicit = true
			c.Detail = fmt.Sprintf("%s policy statement %q denies %s", where, r.Name(), req.Action)
			if r.Key() != "" {
				c.Detail += ": " + r.Reason
			}
			return c
		case r.Outcome == policy.Matches && allow == nil:
			allow = &r
		case r.Outcome == policy.NotEvaluable && unknown == nil:
			unknown = &r
		}
	}
	switch {
	case unknown != nil:
		c.Result, c.Sid, c.ConditionKey = ResultUnknown, unknown.Statement.Sid, unknown.Key()
		c.Detail = fmt.Sprintf("%s policy statement %q may apply: %s", where, unknown.Name(), unknown.Reason)
	case allow != nil:
		c.Result, c.Sid = ResultPass, allow.Statement.Sid
		c.Detail = fmt.Sprintf("%s policy statement %q allows %s", where, allow.Name(), req.Action)
	case mustAllow:
		c.Result = ResultFail
		c.Detail = fmt.Sprintf("no statement of the %s policy allows %s on %s", where, req.Action, strings.Join(req.Resources, ", "))
	default:
		c.Result, c.Detail = ResultPass, fmt.Sprintf("%s policy denies nothing here", where)
	}
	return c
}

func (s *session) vpcEndpoint(ctx context.Context) Check {
	c := Check{Name: CheckVPCEndpoint, Calls: []string{}}
	id := s.t.Record.VPCEndpointID
	if id == "" {
		c.Result, c.Detail = ResultSkipped, "the request did not come through a VPC endpoint"
		return c
	}
	where := fmt.Sprintf("VPC endpoint %s", id)
	if a := s.t.Record.VPCEndpointAccountID; a != "" {
		where += " (account " + a + ")"
	}
	if s.p.EC2 == nil {
		c.Detail = where + ": no EC2 client configured; read its policy with aws ec2 describe-vpc-endpoints --vpc-endpoint-ids " + id
		return c
	}
	c.Calls = []string{"ec2:DescribeVpcEndpoints"}
	out, err := call(ctx, s.p, func(ctx context.Context) (*ec2.DescribeVpcEndpointsOutput, error) {
		return s.p.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}}, func(o *ec2.Options) {
			if s.t.Region != "" {
				o.Region = s.t.Region
			}
		})
	})
	if err != nil {
		if strings.HasPrefix(errorCode(err), "InvalidVpcEndpointId") {
			c.Detail = fmt.Sprintf("%s is not visible from this account and region: its policy lives in the account that owns it (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids %s there)", where, id)
			return c
		}
		return failed(CheckVPCEndpoint, c.Calls, "ec2:DescribeVpcEndpoints", err)
	}
	if len(out.VpcEndpoints) == 0 {
		c.Detail = where + " was not found"
		return c
	}
	raw := aws.ToString(out.VpcEndpoints[0].PolicyDocument)
	if raw == "" {
		c.Result, c.Detail = ResultPass, where+" has the default full-access policy"
		return c
	}
	doc, err := policy.Parse([]byte(raw))
	if err != nil {
		c.Detail = fmt.Sprintf("%s policy cannot be read: %v", where, err)
		return c
	}
	return PolicyVerdict(c, doc, s.t.Request, where, true)
}

// encryptionType finds a bucket whose default encryption configuration
// blocks the encryption type of a write: S3 then refuses the write with
// 403 AccessDenied whatever the policies allow. Only SSE-C can be blocked
// today, and only writes are refused; reads of existing SSE-C objects work.
func (s *session) encryptionType(context.Context) Check {
	c := Check{Name: CheckEncryptionType, Calls: []string{}}
	if !s.t.IsWrite() {
		c.Result, c.Detail = ResultSkipped, "blocked encryption types refuse only object writes; reads of existing SSE-C objects still work"
		return c
	}
	sseC, evidence := s.t.CustomerKey()
	if !sseC {
		c.Result, c.Detail = ResultSkipped, "the request did not use a customer-provided key (SSE-C), the only encryption type a bucket can block"
		return c
	}
	if s.p.S3 == nil {
		c.Detail = "the request used SSE-C (" + evidence + "); no S3 client configured to read the bucket's encryption configuration"
		return c
	}
	c.Calls = []string{"s3:GetBucketEncryption"}
	enc, err := s.encryption.get()
	if err != nil {
		if errorCode(err) == "ServerSideEncryptionConfigurationNotFoundError" {
			c.Result, c.Detail = ResultPass, "the bucket has no default encryption configuration, so it blocks no encryption type"
			return c
		}
		f := failed(CheckEncryptionType, c.Calls, "s3:GetBucketEncryption", err)
		f.Detail = "the request used SSE-C, but " + f.Detail
		return f
	}
	if enc.ServerSideEncryptionConfiguration != nil {
		for _, r := range enc.ServerSideEncryptionConfiguration.Rules {
			if r.BlockedEncryptionTypes != nil && slices.Contains(r.BlockedEncryptionTypes.EncryptionType, s3types.EncryptionTypeSseC) {
				c.Result = ResultFail
				c.Detail = fmt.Sprintf("the default encryption configuration of bucket %s blocks SSE-C (BlockedEncryptionTypes: SSE-C) and the request used SSE-C (%s): S3 refuses SSE-C writes with 403 AccessDenied", s.t.Bucket, evidence)
				return c
			}
		}
	}
	c.Result, c.Detail = ResultPass, fmt.Sprintf("the default encryption configuration of bucket %s does not block SSE-C", s.t.Bucket)
	return c
}
