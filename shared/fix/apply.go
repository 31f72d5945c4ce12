package fix

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IAMActions are exactly the S3 actions Applier calls.
// DeleteBucketOwnershipControls is authorised by s3:PutBucketOwnershipControls.
var IAMActions = []string{
	"s3:GetBucketAcl",
	"s3:GetBucketOwnershipControls",
	"s3:GetBucketPolicy",
	"s3:GetObjectAcl",
	"s3:PutBucketOwnershipControls",
	"s3:PutBucketPolicy",
	"s3:PutObjectAcl",
}

// S3API is the part of *s3.Client the applier uses.
type S3API interface {
	GetBucketAcl(ctx context.Context, params *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetBucketOwnershipControls(ctx context.Context, params *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	PutBucketOwnershipControls(ctx context.Context, params *s3.PutBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	DeleteBucketOwnershipControls(ctx context.Context, params *s3.DeleteBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketOwnershipControlsOutput, error)
	GetObjectAcl(ctx context.Context, params *s3.GetObjectAclInput, optFns ...func(*s3.Options)) (*s3.GetObjectAclOutput, error)
	PutObjectAcl(ctx context.Context, params *s3.PutObjectAclInput, optFns ...func(*s3.Options)) (*s3.PutObjectAclOutput, error)
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, params *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
}

// Why Apply or Rollback did not change anything; test with errors.Is.
var (
	// ErrRefused: outside the catalogue or the allowlists. Never retried.
	ErrRefused = errors.New("fix refused")
	// ErrPrecondition: a precondition no longer holds (the world changed
	// since diagnosis). The fix is skipped, not failed.
	ErrPrecondition = errors.New("precondition failed")
	// ErrVerify: the change was made but reading it back shows otherwise.
	ErrVerify = errors.New("verification failed")
	// ErrDrifted: the resource changed after the fix, so rolling back
	// would overwrite someone else's change.
	ErrDrifted = errors.New("changed since the fix was applied")
)

// OwnershipEnforced is the Object Ownership rule the enforce-owner fix sets.
const OwnershipEnforced = string(types.ObjectOwnershipBucketOwnerEnforced)

// Applier applies, verifies and rolls back catalogue fixes.
type Applier struct {
	s3 S3API
	// allowed reports whether the bucket in the account may be changed.
	allowed func(account, bucket string) bool
}

// NewApplier returns an applier that changes only buckets allowed reports
// true for (the configured bucket and account allowlists).
func NewApplier(api S3API, allowed func(account, bucket string) bool) *Applier {
	return &Applier{s3: api, allowed: allowed}
}

// SaveFunc stores the state read before a change, so that it can be rolled
// back even when the change's own result is never recorded.
type SaveFunc func(ctx context.Context, before Change) error

// Apply re-checks the proposal's preconditions, applies it, verifies the
// result and returns the before and after state. A returned Change with a
// nil error means applied and verified; with ErrVerify it means applied but
// not as expected (the Change allows rolling back). ErrRefused and
// ErrPrecondition mean nothing was changed.
//
// save, when not nil, receives the before state immediately before the
// write; when it fails, Apply changes nothing and returns its error.
func (a *Applier) Apply(ctx context.Context, p Proposal, save SaveFunc) (*Change, error) {
	if err := a.admit(p); err != nil {
		return nil, err
	}
	a = a.forOwner(p.Account)
	if save == nil {
		save = func(context.Context, Change) error { return nil }
	}
	switch p.Kind {
	case KindS3EnforceBucketOwner:
		return a.enforceOwner(ctx, p, save)
	case KindS3ObjectACLBucketOwnerFullControl:
		return a.objectACL(ctx, p, save)
	case KindS3BucketPolicyARNWhitespace:
		return a.policyWhitespace(ctx, p, save)
	}
	return nil, fmt.Errorf("%w: %q is not in the fix catalogue", ErrRefused, p.Kind)
}

func (a *Applier) admit(p Proposal) error {
	switch p.Kind {
	case KindS3EnforceBucketOwner, KindS3ObjectACLBucketOwnerFullControl, KindS3BucketPolicyARNWhitespace:
	default:
		return fmt.Errorf("%w: %q is not in the fix catalogue", ErrRefused, p.Kind)
	}
	if p.Bucket == "" {
		return fmt.Errorf("%w: proposal names no bucket", ErrRefused)
	}
	if a.allowed == nil || !a.allowed(p.Account, p.Bucket) {
		return fmt.Errorf("%w: bucket %s in account %q is not allowlisted", ErrRefused, p.Bucket, p.Account)
	}
	if p.Kind == KindS3ObjectACLBucketOwnerFullControl && p.Key == "" {
		return fmt.Errorf("%w: object ACL fix names no key", ErrRefused)
	}
	return nil
}

func (a *Applier) enforceOwner(ctx context.Context, p Proposal, save SaveFunc) (*Change, error) {
	acl, err := a.s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(p.Bucket)})
	if err != nil {
		return nil, fmt.Errorf("read ACL of bucket %s: %w", p.Bucket, err)
	}
	owner := ownerID(acl.Owner)
	for _, g := range acl.Grants {
		// BucketOwnerEnforced disables ACLs: any grant to someone else
		// would silently stop working, so such a bucket is left alone.
		if g.Grantee == nil || g.Grantee.Type != types.TypeCanonicalUser || aws.ToString(g.Grantee.ID) != owner {
			return nil, fmt.Errorf("%w: bucket %s ACL grants %s to someone other than its owner", ErrPrecondition, p.Bucket, g.Permission)
		}
	}
	before, err := a.ownership(ctx, p.Bucket)
	if err != nil {
		return nil, err
	}
	ch := &Change{Kind: p.Kind, Before: Snapshot{Ownership: before}}
	if before == OwnershipEnforced {
		return nil, fmt.Errorf("%w: bucket %s already enforces bucket ownership", ErrPrecondition, p.Bucket)
	}
	if err := save(ctx, *ch); err != nil {
		return nil, fmt.Errorf("save the state of bucket %s before the change: %w", p.Bucket, err)
	}
	if err := a.putOwnership(ctx, p.Bucket, OwnershipEnforced); err != nil {
		return nil, err
	}
	after, err := a.ownership(ctx, p.Bucket)
	if err != nil {
		return ch, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	ch.After.Ownership = after
	if after != OwnershipEnforced {
		return ch, fmt.Errorf("%w: bucket %s ownership is %q after the change", ErrVerify, p.Bucket, after)
	}
	return ch, nil
}

func (a *Applier) ownership(ctx context.Context, bucket string) (string, error) {
	out, err := a.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if apiCode(err) == "OwnershipControlsNotFoundError" {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read ownership controls of %s: %w", bucket, err)
	}
	if out.OwnershipControls == nil || len(out.OwnershipControls.Rules) == 0 {
		return "", nil
	}
	return string(out.OwnershipControls.Rules[0].ObjectOwnership), nil
}

func (a *Applier) putOwnership(ctx context.Context, bucket, rule string) error {
	if rule == "" {
		if _, err := a.s3.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String(bucket)}); err != nil {
			return fmt.Errorf("delete ownership controls of %s: %w", bucket, err)
		}
		return nil
	}
	_, err := a.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket: aws.String(bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{
			{ObjectOwnership: types.ObjectOwnership(rule)},
		}},
	})
	if err != nil {
		return fmt.Errorf("set ownership of %s to %s: %w", bucket, rule, err)
	}
	return nil
}

func (a *Applier) objectACL(ctx context.Context, p Proposal, save SaveFunc) (*Change, error) {
	bacl, err := a.s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(p.Bucket)})
	if err != nil {
		return nil, fmt.Errorf("read ACL of bucket %s: %w", p.Bucket, err)
	}
	bucketOwner := ownerID(bacl.Owner)
	before, err := a.objectACLSnapshot(ctx, p.Bucket, p.Key)
	if err != nil {
		return nil, err
	}
	ch := &Change{Kind: p.Kind, Before: Snapshot{ACL: before}}
	if grantsFullControl(before, bucketOwner) {
		return nil, fmt.Errorf("%w: the bucket owner already has full control of s3://%s/%s", ErrPrecondition, p.Bucket, p.Key)
	}
	if err := save(ctx, *ch); err != nil {
		return nil, fmt.Errorf("save the ACL of s3://%s/%s before the change: %w", p.Bucket, p.Key, err)
	}
	if _, err := a.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{
		Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), ACL: types.ObjectCannedACLBucketOwnerFullControl,
	}); err != nil {
		return nil, fmt.Errorf("grant bucket owner full control of s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	after, err := a.objectACLSnapshot(ctx, p.Bucket, p.Key)
	if err != nil {
		return ch, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	ch.After.ACL = after
	if !grantsFullControl(after, bucketOwner) {
		return ch, fmt.Errorf("%w: the bucket owner still lacks full control of s3://%s/%s", ErrVerify, p.Bucket, p.Key)
	}
	return ch, nil
}

func (a *Applier) objectACLSnapshot(ctx context.Context, bucket, key string) (*ACL, error) {
	out, err := a.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	switch code := apiCode(err); {
	case err == nil:
	case code == "NoSuchKey" || code == "NotFound":
		return nil, fmt.Errorf("%w: s3://%s/%s does not exist", ErrPrecondition, bucket, key)
	case code == "AccessDenied":
		return nil, fmt.Errorf("%w: the ACL of s3://%s/%s is not readable: %v", ErrPrecondition, bucket, key, err)
	default:
		return nil, fmt.Errorf("read ACL of s3://%s/%s: %w", bucket, key, err)
	}
	acl := &ACL{OwnerID: ownerID(out.Owner)}
	for _, g := range out.Grants {
		if g.Grantee == nil {
			continue
		}
		acl.Grants = append(acl.Grants, Grant{
			Type: string(g.Grantee.Type), ID: aws.ToString(g.Grantee.ID), URI: aws.ToString(g.Grantee.URI),
			Email: aws.ToString(g.Grantee.EmailAddress), Permission: string(g.Permission),
		})
	}
	return acl, nil
}

func (a *Applier) policyWhitespace(ctx context.Context, p Proposal, save SaveFunc) (*Change, error) {
	if p.PolicySHA256 == "" || p.NewPolicy == "" {
		return nil, fmt.Errorf("%w: whitespace fix without the diagnosed policy hash and the new policy", ErrRefused)
	}
	current, err := a.policy(ctx, p.Bucket)
	if err != nil {
		return nil, err
	}
	if PolicyHash(current) != p.PolicySHA256 {
		return nil, fmt.Errorf("%w: the policy of bucket %s changed since diagnosis", ErrPrecondition, p.Bucket)
	}
	if err := CheckWhitespaceFix(current, p.NewPolicy); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	ch := &Change{Kind: p.Kind, Before: Snapshot{Policy: current}}
	if err := save(ctx, *ch); err != nil {
		return nil, fmt.Errorf("save the policy of bucket %s before the change: %w", p.Bucket, err)
	}
	if _, err := a.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(p.Bucket), Policy: aws.String(p.NewPolicy)}); err != nil {
		return nil, fmt.Errorf("put policy of bucket %s: %w", p.Bucket, err)
	}
	after, err := a.policy(ctx, p.Bucket)
	if err != nil {
		return ch, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	ch.After.Policy = after
	if !samePolicy(after, p.NewPolicy) {
		return ch, fmt.Errorf("%w: bucket %s policy differs from the one written", ErrVerify, p.Bucket)
	}
	return ch, nil
}

func (a *Applier) policy(ctx context.Context, bucket string) (string, error) {
	out, err := a.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if apiCode(err) == "NoSuchBucketPolicy" {
		return "", fmt.Errorf("%w: bucket %s has no policy", ErrPrecondition, bucket)
	}
	if err != nil {
		return "", fmt.Errorf("read policy of bucket %s: %w", bucket, err)
	}
	return aws.ToString(out.Policy), nil
}

// Rollback restores the before state of an applied change, provided the
// resource still shows the after state (otherwise ErrDrifted: someone changed
// it since, and their change wins) and the restore makes nothing public.
func (a *Applier) Rollback(ctx context.Context, p Proposal, ch Change) error {
	if ch.Kind != p.Kind {
		return fmt.Errorf("%w: change of kind %s does not belong to a %s proposal", ErrRefused, ch.Kind, p.Kind)
	}
	if err := a.admit(p); err != nil {
		return err
	}
	a = a.forOwner(p.Account)
	switch p.Kind {
	case KindS3EnforceBucketOwner:
		now, err := a.ownership(ctx, p.Bucket)
		if err != nil {
			return err
		}
		if now != ch.After.Ownership {
			return fmt.Errorf("%w: bucket %s ownership is %q, not %q", ErrDrifted, p.Bucket, now, ch.After.Ownership)
		}
		if err := a.putOwnership(ctx, p.Bucket, ch.Before.Ownership); err != nil {
			return err
		}
		if got, err := a.ownership(ctx, p.Bucket); err != nil || got != ch.Before.Ownership {
			return fmt.Errorf("%w: bucket %s ownership is %q after rollback (%v)", ErrVerify, p.Bucket, got, err)
		}
		return nil
	case KindS3ObjectACLBucketOwnerFullControl:
		if ch.Before.ACL == nil || ch.After.ACL == nil {
			return fmt.Errorf("%w: no saved ACL to restore", ErrRefused)
		}
		for _, g := range ch.Before.ACL.Grants {
			if g.Type == string(types.TypeGroup) && (strings.HasSuffix(g.URI, "/AllUsers") || strings.HasSuffix(g.URI, "/AuthenticatedUsers")) {
				return fmt.Errorf("%w: the saved ACL of s3://%s/%s is public; restoring it would make the object public", ErrRefused, p.Bucket, p.Key)
			}
		}
		now, err := a.objectACLSnapshot(ctx, p.Bucket, p.Key)
		if err != nil {
			return err
		}
		if !sameACL(now, ch.After.ACL) {
			return fmt.Errorf("%w: the ACL of s3://%s/%s changed after the fix", ErrDrifted, p.Bucket, p.Key)
		}
		if _, err := a.s3.PutObjectAcl(ctx, restoreACLInput(p.Bucket, p.Key, ch.Before.ACL)); err != nil {
			return fmt.Errorf("restore ACL of s3://%s/%s: %w", p.Bucket, p.Key, err)
		}
		got, err := a.objectACLSnapshot(ctx, p.Bucket, p.Key)
		if err != nil || !sameACL(got, ch.Before.ACL) {
			return fmt.Errorf("%w: the ACL of s3://%s/%s differs from the saved one after rollback (%v)", ErrVerify, p.Bucket, p.Key, err)
		}
		return nil
	case KindS3BucketPolicyARNWhitespace:
		if ch.Before.Policy == "" {
			return fmt.Errorf("%w: no saved policy to restore", ErrRefused)
		}
		if denyChanged(ch.Before.Policy, ch.After.Policy) {
			// The fix made a Deny match what it names; restoring the saved
			// policy would weaken that Deny again.
			return fmt.Errorf("%w: the fix repaired a Deny statement of bucket %s; restoring the saved policy would weaken it", ErrRefused, p.Bucket)
		}
		now, err := a.policy(ctx, p.Bucket)
		if err != nil {
			return err
		}
		if !samePolicy(now, ch.After.Policy) {
			return fmt.Errorf("%w: the policy of bucket %s changed after the fix", ErrDrifted, p.Bucket)
		}
		if _, err := a.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(p.Bucket), Policy: aws.String(ch.Before.Policy)}); err != nil {
			return fmt.Errorf("restore policy of bucket %s: %w", p.Bucket, err)
		}
		got, err := a.policy(ctx, p.Bucket)
		if err != nil || !samePolicy(got, ch.Before.Policy) {
			return fmt.Errorf("%w: bucket %s policy differs from the saved one after rollback (%v)", ErrVerify, p.Bucket, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %q is not in the fix catalogue", ErrRefused, p.Kind)
}

// forOwner returns the applier with every S3 call sent with the header
// x-amz-expected-bucket-owner: the allowlists admit a bucket by name and
// account, and this makes S3 itself refuse a bucket of that name that
// another account owns.
func (a *Applier) forOwner(account string) *Applier {
	c := *a
	c.s3 = ownedS3{S3API: a.s3, expect: func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Amz-Expected-Bucket-Owner", account))
	}}
	return &c
}

// ownedS3 adds the expected-bucket-owner option to each call.
type ownedS3 struct {
	S3API
	expect func(*s3.Options)
}

func (o ownedS3) GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, fns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error) {
	return o.S3API.GetBucketAcl(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, fns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return o.S3API.GetBucketOwnershipControls(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, fns ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	return o.S3API.PutBucketOwnershipControls(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) DeleteBucketOwnershipControls(ctx context.Context, in *s3.DeleteBucketOwnershipControlsInput, fns ...func(*s3.Options)) (*s3.DeleteBucketOwnershipControlsOutput, error) {
	return o.S3API.DeleteBucketOwnershipControls(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) GetObjectAcl(ctx context.Context, in *s3.GetObjectAclInput, fns ...func(*s3.Options)) (*s3.GetObjectAclOutput, error) {
	return o.S3API.GetObjectAcl(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) PutObjectAcl(ctx context.Context, in *s3.PutObjectAclInput, fns ...func(*s3.Options)) (*s3.PutObjectAclOutput, error) {
	return o.S3API.PutObjectAcl(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, fns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	return o.S3API.GetBucketPolicy(ctx, in, append(fns, o.expect)...)
}

func (o ownedS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, fns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	return o.S3API.PutBucketPolicy(ctx, in, append(fns, o.expect)...)
}

// restoreACLInput writes the saved grants as x-amz-grant-* headers, which
// every S3 implementation reads; an ACL without grants is sent as a body.
func restoreACLInput(bucket, key string, acl *ACL) *s3.PutObjectAclInput {
	in := &s3.PutObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	by := map[string][]string{}
	for _, g := range acl.Grants {
		var who string
		switch {
		case g.ID != "":
			who = `id="` + g.ID + `"`
		case g.URI != "":
			who = `uri="` + g.URI + `"`
		case g.Email != "":
			who = `emailAddress="` + g.Email + `"`
		default:
			continue
		}
		by[g.Permission] = append(by[g.Permission], who)
	}
	set := func(perm types.Permission) *string {
		if v := by[string(perm)]; len(v) > 0 {
			return aws.String(strings.Join(v, ", "))
		}
		return nil
	}
	in.GrantFullControl = set(types.PermissionFullControl)
	in.GrantRead = set(types.PermissionRead)
	in.GrantReadACP = set(types.PermissionReadAcp)
	in.GrantWriteACP = set(types.PermissionWriteAcp)
	if in.GrantFullControl == nil && in.GrantRead == nil && in.GrantReadACP == nil && in.GrantWriteACP == nil {
		in.AccessControlPolicy = accessControlPolicy(acl)
	}
	return in
}

func accessControlPolicy(acl *ACL) *types.AccessControlPolicy {
	acp := &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String(acl.OwnerID)}}
	for _, g := range acl.Grants {
		gr := &types.Grantee{Type: types.Type(g.Type)}
		if g.ID != "" {
			gr.ID = aws.String(g.ID)
		}
		if g.URI != "" {
			gr.URI = aws.String(g.URI)
		}
		if g.Email != "" {
			gr.EmailAddress = aws.String(g.Email)
		}
		acp.Grants = append(acp.Grants, types.Grant{Grantee: gr, Permission: types.Permission(g.Permission)})
	}
	return acp
}

func grantsFullControl(acl *ACL, ownerID string) bool {
	for _, g := range acl.Grants {
		if g.Type == string(types.TypeCanonicalUser) && g.ID == ownerID && g.Permission == string(types.PermissionFullControl) {
			return true
		}
	}
	return false
}

// sameACL compares owners and grant sets, ignoring order.
func sameACL(a, b *ACL) bool {
	if a == nil || b == nil || a.OwnerID != b.OwnerID || len(a.Grants) != len(b.Grants) {
		return a == b
	}
	seen := map[Grant]int{}
	for _, g := range a.Grants {
		seen[g]++
	}
	for _, g := range b.Grants {
		if seen[g] == 0 {
			return false
		}
		seen[g]--
	}
	return true
}

func ownerID(o *types.Owner) string {
	if o == nil {
		return ""
	}
	return aws.ToString(o.ID)
}

// apiCode is the AWS error code of err, or "" when err is nil or carries none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
