package fix_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
)

const account = "123456789012" // moto's default account

// Integration tests against moto. moto does not enforce BucketOwnerEnforced
// and gives every account one canonical ID, so these prove the API calls,
// the preconditions and the recorded before/after state, not S3's
// authorisation.
func TestApplier(t *testing.T) {
	srv := mototest.Start(t)
	client := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	allow := func(acc, bucket string) bool { return acc == account && strings.HasPrefix(bucket, "ok-") }
	a := fix.NewApplier(client, allow)
	ctx := context.Background()

	mkBucket := func(t *testing.T, name string) {
		t.Helper()
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	ownership := func(t *testing.T, bucket string) string {
		t.Helper()
		out, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
		if err != nil {
			return "none"
		}
		return string(out.OwnershipControls.Rules[0].ObjectOwnership)
	}

	t.Run("enforce owner apply and roll back", func(t *testing.T) {
		mkBucket(t, "ok-enforce")
		if _, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket:            aws.String("ok-enforce"),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}},
		}); err != nil {
			t.Fatal(err)
		}
		p := fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: account, Bucket: "ok-enforce"}
		ch, err := a.Apply(ctx, p, nil)
		if err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if ch.Before.Ownership != "ObjectWriter" || ch.After.Ownership != "BucketOwnerEnforced" {
			t.Errorf("change = %+v; want ObjectWriter → BucketOwnerEnforced", ch)
		}
		if got := ownership(t, "ok-enforce"); got != "BucketOwnerEnforced" {
			t.Errorf("ownership after apply = %s; want BucketOwnerEnforced", got)
		}
		if _, err := a.Apply(ctx, p, nil); !errors.Is(err, fix.ErrPrecondition) {
			t.Errorf("second Apply = %v; want ErrPrecondition", err)
		}
		if err := a.Rollback(ctx, p, *ch); err != nil {
			t.Fatalf("Rollback = %v", err)
		}
		if got := ownership(t, "ok-enforce"); got != "ObjectWriter" {
			t.Errorf("ownership after rollback = %s; want ObjectWriter", got)
		}
		if err := a.Rollback(ctx, p, *ch); !errors.Is(err, fix.ErrDrifted) {
			t.Errorf("second Rollback = %v; want ErrDrifted", err)
		}
	})

	t.Run("enforce owner refused when ACL grants others", func(t *testing.T) {
		mkBucket(t, "ok-shared-acl")
		if _, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket:            aws.String("ok-shared-acl"),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("ok-shared-acl"), ACL: types.BucketCannedACLAuthenticatedRead}); err != nil {
			t.Fatal(err)
		}
		_, err := a.Apply(ctx, fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: account, Bucket: "ok-shared-acl"}, nil)
		if !errors.Is(err, fix.ErrPrecondition) {
			t.Errorf("Apply = %v; want ErrPrecondition", err)
		}
		if got := ownership(t, "ok-shared-acl"); got != "ObjectWriter" {
			t.Errorf("ownership = %s; want it unchanged (ObjectWriter)", got)
		}
	})

	t.Run("object ACL apply and roll back", func(t *testing.T) {
		mkBucket(t, "ok-objects")
		key := "partner/orders.csv"
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ok-objects"), Key: aws.String(key), Body: strings.NewReader("id,total\n")}); err != nil {
			t.Fatal(err)
		}
		acl, err := client.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("ok-objects"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		owner := aws.ToString(acl.Owner.ID)
		// The uploader kept only READ for the bucket owner's canonical ID
		// (moto reads grant headers; it ignores an AccessControlPolicy body).
		if _, err := client.PutObjectAcl(ctx, &s3.PutObjectAclInput{
			Bucket: aws.String("ok-objects"), Key: aws.String(key), GrantRead: aws.String("id=" + owner),
		}); err != nil {
			t.Fatal(err)
		}
		p := fix.Proposal{Kind: fix.KindS3ObjectACLBucketOwnerFullControl, Account: account, Bucket: "ok-objects", Key: key}
		ch, err := a.Apply(ctx, p, nil)
		if err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if len(ch.Before.ACL.Grants) != 1 || ch.Before.ACL.Grants[0].Permission != "READ" {
			t.Errorf("before = %+v; want the single READ grant", ch.Before.ACL)
		}
		if err := a.Rollback(ctx, p, *ch); err != nil {
			t.Fatalf("Rollback = %v", err)
		}
		got, err := client.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("ok-objects"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Grants) != 1 || got.Grants[0].Permission != types.PermissionRead {
			t.Errorf("grants after rollback = %+v; want the saved READ grant", got.Grants)
		}
		missing := p
		missing.Key = "no/such/key"
		if _, err := a.Apply(ctx, missing, nil); !errors.Is(err, fix.ErrPrecondition) {
			t.Errorf("Apply on a missing object = %v; want ErrPrecondition", err)
		}
	})

	t.Run("policy whitespace apply, drift and roll back", func(t *testing.T) {
		mkBucket(t, "ok-policy")
		old := `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: ok-policy/*"}]}`
		fixed := strings.Replace(old, "::: ok-policy", ":::ok-policy", 1)
		if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("ok-policy"), Policy: aws.String(old)}); err != nil {
			t.Fatal(err)
		}
		got, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("ok-policy")})
		if err != nil {
			t.Fatal(err)
		}
		p := fix.Proposal{Kind: fix.KindS3BucketPolicyARNWhitespace, Account: account, Bucket: "ok-policy",
			PolicySHA256: fix.PolicyHash(aws.ToString(got.Policy)), NewPolicy: fixed}

		stale := p
		stale.PolicySHA256 = fix.PolicyHash("something else")
		if _, err := a.Apply(ctx, stale, nil); !errors.Is(err, fix.ErrPrecondition) {
			t.Errorf("Apply with a stale hash = %v; want ErrPrecondition", err)
		}
		widened := p
		widened.NewPolicy = strings.Replace(fixed, `"s3:GetObject"`, `"s3:*"`, 1)
		if _, err := a.Apply(ctx, widened, nil); !errors.Is(err, fix.ErrRefused) {
			t.Errorf("Apply widening the action = %v; want ErrRefused", err)
		}

		ch, err := a.Apply(ctx, p, nil)
		if err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if ch.Before.Policy != aws.ToString(got.Policy) {
			t.Errorf("before policy = %s; want the diagnosed one", ch.Before.Policy)
		}
		if err := a.Rollback(ctx, p, *ch); err != nil {
			t.Fatalf("Rollback = %v", err)
		}
		now, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("ok-policy")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(aws.ToString(now.Policy), "::: ok-policy") {
			t.Errorf("policy after rollback = %s; want the saved one", aws.ToString(now.Policy))
		}
	})

	t.Run("rollback never weakens a repaired Deny", func(t *testing.T) {
		mkBucket(t, "ok-deny")
		old := `{"Version":"2012-10-17","Statement":[{"Sid":"NoTemp","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/temp"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: ok-deny/*"}]}`
		fixed := strings.Replace(old, "::: ok-deny", ":::ok-deny", 1)
		if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("ok-deny"), Policy: aws.String(old)}); err != nil {
			t.Fatal(err)
		}
		got, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("ok-deny")})
		if err != nil {
			t.Fatal(err)
		}
		p := fix.Proposal{Kind: fix.KindS3BucketPolicyARNWhitespace, Account: account, Bucket: "ok-deny",
			PolicySHA256: fix.PolicyHash(aws.ToString(got.Policy)), NewPolicy: fixed}
		ch, err := a.Apply(ctx, p, nil)
		if err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if err := a.Rollback(ctx, p, *ch); !errors.Is(err, fix.ErrRefused) {
			t.Errorf("Rollback = %v; want ErrRefused", err)
		}
		now, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("ok-deny")})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(aws.ToString(now.Policy), "::: ok-deny") {
			t.Errorf("policy after refused rollback = %s; want the repaired Deny kept", aws.ToString(now.Policy))
		}
	})

	t.Run("before state saved ahead of the write", func(t *testing.T) {
		mkBucket(t, "ok-save")
		if _, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket:            aws.String("ok-save"),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}},
		}); err != nil {
			t.Fatal(err)
		}
		p := fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: account, Bucket: "ok-save"}
		var saved []fix.Change
		failing := func(_ context.Context, before fix.Change) error {
			saved = append(saved, before)
			return errors.New("ProvisionedThroughputExceededException")
		}
		if _, err := a.Apply(ctx, p, failing); err == nil {
			t.Fatal("Apply with a failing save = nil; want its error")
		}
		if len(saved) != 1 || saved[0].Before.Ownership != "ObjectWriter" {
			t.Errorf("saved %+v; want the ObjectWriter before state once", saved)
		}
		if got := ownership(t, "ok-save"); got != "ObjectWriter" {
			t.Errorf("ownership = %s; want ObjectWriter: nothing may change when the before state was not saved", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		mkBucket(t, "not-allowed")
		tests := []struct {
			name string
			p    fix.Proposal
		}{
			{"not in catalogue", fix.Proposal{Kind: fix.KindNone, Account: account, Bucket: "ok-enforce"}},
			{"bucket not allowlisted", fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: account, Bucket: "not-allowed"}},
			{"account not allowlisted", fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: "444455556666", Bucket: "ok-enforce"}},
			{"no account", fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Bucket: "ok-enforce"}},
			{"whitespace fix without hash", fix.Proposal{Kind: fix.KindS3BucketPolicyARNWhitespace, Account: account, Bucket: "ok-policy", NewPolicy: "{}"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := a.Apply(ctx, tc.p, nil); !errors.Is(err, fix.ErrRefused) {
					t.Errorf("Apply = %v; want ErrRefused", err)
				}
			})
		}
	})
}

// TestApplierNamesTheBucketOwner proves, with a recording proxy in front of
// moto, that every S3 call of a fix and its rollback carries
// x-amz-expected-bucket-owner. S3 answers 403 when the bucket belongs to
// another account; moto does not check the header, so this test checks that
// it is sent.
func TestApplierNamesTheBucketOwner(t *testing.T) {
	srv := mototest.Start(t)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RawQuery+" owner="+r.Header.Get("X-Amz-Expected-Bucket-Owner"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer rec.Close()
	cfg := srv.Config()
	cfg.BaseEndpoint = aws.String(rec.URL)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ok-owned")}); err != nil {
		t.Fatal(err)
	}
	a := fix.NewApplier(client, func(string, string) bool { return true })
	p := fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: account, Bucket: "ok-owned"}

	mu.Lock()
	seen = nil
	mu.Unlock()
	ch, err := a.Apply(ctx, p, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := a.Rollback(ctx, p, *ch); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 6 {
		t.Fatalf("calls seen: got %d; want the reads, the write, the verification and the rollback", len(seen))
	}
	for _, s := range seen {
		if !strings.HasSuffix(s, " owner="+account) {
			t.Errorf("call %q: got no x-amz-expected-bucket-owner %s", s, account)
		}
	}
}
