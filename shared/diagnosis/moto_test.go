package diagnosis_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/s3probe"
)

// bucketAccount is moto's account: every sample event's bucket lives there.
const bucketAccount = "123456789012"

// policyJSON renders a policy document the way people write them.
func policyJSON(tb testing.TB, statements ...map[string]any) string {
	tb.Helper()
	b, err := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": statements}, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func createBucket(tb testing.TB, c clients, bucket string, keys ...string) {
	tb.Helper()
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	mustDo(tb, "CreateBucket", err)
	for _, k := range keys {
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("sample")})
		mustDo(tb, "PutObject", err)
	}
}

func putPolicy(tb testing.TB, c clients, bucket, doc string) {
	tb.Helper()
	_, err := c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &doc})
	mustDo(tb, "PutBucketPolicy", err)
}

// scenario is one cause, driven by one sample event.
type scenario struct {
	event string
	// setup builds the live configuration behind the event; it may adjust
	// the record where moto assigns IDs itself (VPC endpoints).
	setup   func(t testing.TB, c clients, rec *cloudtrail.Record)
	cause   denial.Cause
	sid     string
	key     string
	failing string // the check whose failure names the cause, "" if none
	fix     fix.Kind
}

var motoScenarios = []scenario{
	{
		event: "s3-bucket-policy-deny-vpce.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-finance-reports", "monthly/2026-10.pdf")
			putPolicy(t, c, "example-finance-reports", policyJSON(t, map[string]any{
				"Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{"arn:aws:s3:::example-finance-reports", "arn:aws:s3:::example-finance-reports/*"},
				"Condition": map[string]any{"StringNotEquals": map[string]any{"aws:SourceVpce": "vpce-0123456789abcdef0"}},
			}))
		},
		cause: denial.CauseBucketPolicyDeny, sid: "DenyOutsideVpce", key: "aws:SourceVpce", failing: s3probe.CheckBucketPolicyDeny,
	},
	{
		event: "s3-bucket-policy-deny-sourceip.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-build-artifacts", "releases/app-1.4.2.tar.gz")
			putPolicy(t, c, "example-build-artifacts", policyJSON(t, map[string]any{
				"Sid": "AllowReadFromOffice", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"},
				"Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-build-artifacts/*",
			}, map[string]any{
				"Sid": "DenyOutsideOffice", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  "arn:aws:s3:::example-build-artifacts/*",
				"Condition": map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": []string{"203.0.113.0/24", "2001:db8:1234::/48"}}},
			}))
		},
		cause: denial.CauseBucketPolicyDeny, sid: "DenyOutsideOffice", key: "aws:SourceIp", failing: s3probe.CheckBucketPolicyDeny,
	},
	{
		event: "s3-bucket-policy-deny-mfa.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-audit-logs", "2026/11/20/trail.json.gz")
			putPolicy(t, c, "example-audit-logs", policyJSON(t, map[string]any{
				"Sid": "RequireMFAForDelete", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
				"Action":    []string{"s3:DeleteObject", "s3:DeleteObjectVersion"},
				"Resource":  "arn:aws:s3:::example-audit-logs/*",
				"Condition": map[string]any{"BoolIfExists": map[string]any{"aws:MultiFactorAuthPresent": false}},
			}))
		},
		cause: denial.CauseBucketPolicyDeny, sid: "RequireMFAForDelete", key: "aws:MultiFactorAuthPresent", failing: s3probe.CheckBucketPolicyDeny,
	},
	{
		event: "s3-bucket-policy-deny-securetransport.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-exports")
			putPolicy(t, c, "example-exports", policyJSON(t, map[string]any{
				"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{"arn:aws:s3:::example-exports", "arn:aws:s3:::example-exports/*"},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}))
		},
		cause: denial.CauseBucketPolicyDeny, sid: "DenyInsecureTransport", key: "aws:SecureTransport", failing: s3probe.CheckBucketPolicyDeny,
	},
	{
		event: "s3-bucket-policy-deny-encryption.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-secure-uploads")
			putPolicy(t, c, "example-secure-uploads", policyJSON(t, map[string]any{
				"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
				"Resource":  "arn:aws:s3:::example-secure-uploads/*",
				"Condition": map[string]any{"StringNotEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}},
			}))
		},
		cause: denial.CauseBucketPolicyDeny, sid: "DenyUnencryptedUploads", key: "s3:x-amz-server-side-encryption", failing: s3probe.CheckBucketPolicyDeny,
	},
	{
		event: "s3-bucket-policy-missing-allow.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-shared-catalog", "catalog/products.json")
			putPolicy(t, c, "example-shared-catalog", policyJSON(t, map[string]any{
				"Sid": "AllowOtherPartner", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444455556666:root"},
				"Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-shared-catalog/*",
			}))
		},
		cause: denial.CauseBucketPolicyMissingAllow, failing: s3probe.CheckBucketPolicyAllow,
	},
	{
		event: "s3-block-public-access.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-public-site", "index.html")
			putPolicy(t, c, "example-public-site", policyJSON(t, map[string]any{
				"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
				"Resource": "arn:aws:s3:::example-public-site/*",
			}))
			_, err := c.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("example-public-site"),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true), IgnorePublicAcls: aws.Bool(true)}})
			mustDo(t, "PutPublicAccessBlock", err)
		},
		cause: denial.CauseBlockPublicAccess, failing: s3probe.CheckBlockPublicAccess,
	},
	{
		event: "s3-kms.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			key, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policyJSON(t, map[string]any{
				"Sid": "KeyAdminsOnly", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:role/KeyAdmin"},
				"Action": "kms:*", "Resource": "*",
			}))})
			mustDo(t, "CreateKey", err)
			createBucket(t, c, "example-encrypted-data")
			_, err = c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("example-encrypted-data"), Key: aws.String("customers/2026-11.parquet"),
				Body: strings.NewReader("PAR1"), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: key.KeyMetadata.Arn})
			mustDo(t, "PutObject SSE-KMS", err)
		},
		cause: denial.CauseKMS, failing: s3probe.CheckKMS,
	},
	{
		event: "s3-missing-object-masked.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-report-archive", "reports/2026/q2 summary.csv")
		},
		cause: denial.CauseMissingObjectMasked, failing: s3probe.CheckObjectExists,
	},
	{
		event: "s3-policy-arn-whitespace.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-bucket-shared", "exports/inventory.csv")
			putPolicy(t, c, "example-bucket-shared", policyJSON(t, map[string]any{
				"Sid": "PartnerRead", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::111122223333:root"},
				"Action": "s3:GetObject", "Resource": "arn:aws:s3::: example-bucket-shared/*",
			}, map[string]any{
				"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
				"Resource": "arn:aws:s3:::example-bucket-shared",
			}))
		},
		cause: denial.CausePolicyARNWhitespace, sid: "PartnerRead", failing: s3probe.CheckPolicyARN, fix: fix.KindS3BucketPolicyARNWhitespace,
	},
	{
		event: "s3-access-point-policy.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-datalake", "curated/sales/2026-11.parquet")
			putPolicy(t, c, "example-datalake", policyJSON(t, map[string]any{
				"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": "*", "Action": "*",
				"Resource":  []string{"arn:aws:s3:::example-datalake", "arn:aws:s3:::example-datalake/*"},
				"Condition": map[string]any{"StringEquals": map[string]any{"s3:DataAccessPointAccount": bucketAccount}},
			}))
			_, err := c.ctl.CreateAccessPoint(ctx, &s3control.CreateAccessPointInput{AccountId: aws.String(bucketAccount), Name: aws.String("partner-read"), Bucket: aws.String("example-datalake"),
				PublicAccessBlockConfiguration: &controltypes.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}})
			mustDo(t, "CreateAccessPoint", err)
			ap := "arn:aws:s3:us-east-1:" + bucketAccount + ":accesspoint/partner-read"
			_, err = c.ctl.PutAccessPointPolicy(ctx, &s3control.PutAccessPointPolicyInput{AccountId: aws.String(bucketAccount), Name: aws.String("partner-read"),
				Policy: aws.String(policyJSON(t, map[string]any{
					"Sid": "OtherPartnerOnly", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444455556666:role/Reader"},
					"Action": "s3:GetObject", "Resource": ap + "/object/*",
				}))})
			mustDo(t, "PutAccessPointPolicy", err)
		},
		cause: denial.CauseAccessPointPolicy, failing: s3probe.CheckAccessPoint,
	},
	{
		event: "s3-vpc-endpoint-policy.json",
		setup: func(t testing.TB, c clients, rec *cloudtrail.Record) {
			createBucket(t, c, "example-other-team", "shared/config.yaml")
			vpc, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
			mustDo(t, "CreateVpc", err)
			ep, err := c.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: vpc.Vpc.VpcId, ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
				VpcEndpointType: ec2types.VpcEndpointTypeGateway,
				PolicyDocument: aws.String(policyJSON(t, map[string]any{
					"Sid": "OnlyTeamBucket", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
					"Resource": []string{"arn:aws:s3:::example-team-bucket", "arn:aws:s3:::example-team-bucket/*"},
				}))})
			mustDo(t, "CreateVpcEndpoint", err)
			// moto assigns endpoint IDs itself: point the event at the one it made.
			rec.VPCEndpointID = aws.ToString(ep.VpcEndpoint.VpcEndpointId)
		},
		cause: denial.CauseVPCEndpointPolicy, failing: s3probe.CheckVPCEndpoint,
	},
	{
		event: "s3-presigned-url-expired.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-downloads", "installers/setup-2.3.exe")
		},
		cause: denial.CausePresignedURLExpired, failing: s3probe.CheckPresignedURL,
	},
	{
		event: "s3-org-policy-deny.json",
		setup: func(t testing.TB, c clients, _ *cloudtrail.Record) {
			createBucket(t, c, "example-backups")
		},
		cause: denial.CauseOrgPolicyDeny, failing: diagnosis.CheckOtherPolicies,
	},
}

func TestDiagnoseAgainstMoto(t *testing.T) {
	srv := mototest.Start(t)
	c := newClients(srv.Config(), srv.URL)
	runner := c.runner()
	for _, sc := range motoScenarios {
		t.Run(strings.TrimSuffix(sc.event, ".json"), func(t *testing.T) {
			srv.Reset(t)
			rec := loadEvent(t, sc.event)
			sc.setup(t, c, &rec)
			d, ok := runner.Diagnose(ctx, rec)
			if !ok {
				t.Fatalf("Diagnose: not a denial")
			}
			assertDiagnosis(t, d, sc)
		})
	}
}

// assertDiagnosis checks cause, Sid, condition key, the failing evidence
// and the fix of one scenario.
func assertDiagnosis(t *testing.T, d diagnosis.Diagnosis, sc scenario) {
	t.Helper()
	if d.Cause != sc.cause {
		t.Errorf("cause: got %v; want %v\nsummary: %s\nevidence:\n%s", d.Cause, sc.cause, d.Summary, evidenceText(d))
	}
	if sc.failing != "" {
		i := slices.IndexFunc(d.Evidence, func(c s3probe.Check) bool { return c.Name == sc.failing })
		switch {
		case i < 0:
			t.Errorf("evidence %s missing", sc.failing)
		case d.Evidence[i].Result != s3probe.ResultFail:
			t.Errorf("evidence %s: got %v (%s); want fail", sc.failing, d.Evidence[i].Result, d.Evidence[i].Detail)
		default:
			if sc.sid != "" && d.Evidence[i].Sid != sc.sid {
				t.Errorf("evidence %s sid: got %q; want %q", sc.failing, d.Evidence[i].Sid, sc.sid)
			}
			if sc.key != "" && d.Evidence[i].ConditionKey != sc.key {
				t.Errorf("evidence %s condition key: got %q; want %q", sc.failing, d.Evidence[i].ConditionKey, sc.key)
			}
		}
	}
	if sc.cause == denial.CauseBucketPolicyDeny {
		if !strings.Contains(d.Summary, sc.sid) || !strings.Contains(d.Summary, sc.key) {
			t.Errorf("summary %q: want statement %q and key %q named", d.Summary, sc.sid, sc.key)
		}
		if !slices.ContainsFunc(d.NextSteps, func(s string) bool { return strings.Contains(s, sc.key) || strings.Contains(s, sc.sid) }) {
			t.Errorf("next steps %q: want %q or %q named", d.NextSteps, sc.key, sc.sid)
		}
	}
	switch {
	case sc.fix == fix.KindNone && d.Fix != nil:
		t.Errorf("fix: got %+v; want none", *d.Fix)
	case sc.fix != fix.KindNone && d.Fix == nil:
		t.Errorf("fix: got none; want %v", sc.fix)
	case sc.fix != fix.KindNone && d.Fix.Kind != sc.fix:
		t.Errorf("fix kind: got %v; want %v", d.Fix.Kind, sc.fix)
	}
	if d.Summary == "" || len(d.NextSteps) == 0 {
		t.Errorf("summary %q, next steps %q: want both", d.Summary, d.NextSteps)
	}
	for _, c := range d.Evidence {
		if c.Detail == "" || c.Calls == nil {
			t.Errorf("evidence %s: detail %q calls %v; want both set", c.Name, c.Detail, c.Calls)
		}
	}
}

func evidenceText(d diagnosis.Diagnosis) string {
	var b strings.Builder
	for _, c := range d.Evidence {
		b.WriteString("  " + c.Name + " " + c.Result.String() + ": " + c.Detail + " " + strings.Join(c.Calls, ",") + "\n")
	}
	return b.String()
}

// TestDiagnoseDeletedBucket: moto answers NoSuchBucket as S3 does; the
// diagnosis keeps the explanation and says the bucket is gone.
func TestDiagnoseDeletedBucket(t *testing.T) {
	srv := mototest.Start(t)
	c := newClients(srv.Config(), srv.URL)
	d, ok := c.runner().Diagnose(ctx, loadEvent(t, "s3-bucket-policy-deny-sourceip.json"))
	if !ok {
		t.Fatal("not a denial")
	}
	if d.Cause != denial.CauseUnknown || !strings.Contains(d.Summary, "no longer exists") || d.Principal == nil {
		t.Errorf("cause %v summary %q principal %v; want unknown, the bucket gone, the explanation kept\n%s", d.Cause, d.Summary, d.Principal, evidenceText(d))
	}
}
