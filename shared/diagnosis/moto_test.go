package diagnosis_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/sampleworld"
)

// scenario is one cause, driven by one sample event whose live
// configuration package sampleworld builds.
type scenario struct {
	event   string
	cause   denial.Cause
	sid     string
	key     string
	failing string // the check whose failure names the cause, "" if none
	fix     fix.Kind
}

// motoScenarios are the expected diagnoses of the sample worlds.
var motoScenarios = []scenario{
	{event: "s3-bucket-policy-deny-vpce.json", cause: denial.CauseBucketPolicyDeny, sid: "DenyOutsideVpce", key: "aws:SourceVpce", failing: s3probe.CheckBucketPolicyDeny},
	{event: "s3-bucket-policy-deny-sourceip.json", cause: denial.CauseBucketPolicyDeny, sid: "DenyOutsideOffice", key: "aws:SourceIp", failing: s3probe.CheckBucketPolicyDeny},
	{event: "s3-bucket-policy-deny-mfa.json", cause: denial.CauseBucketPolicyDeny, sid: "RequireMFAForDelete", key: "aws:MultiFactorAuthPresent", failing: s3probe.CheckBucketPolicyDeny},
	{event: "s3-bucket-policy-deny-securetransport.json", cause: denial.CauseBucketPolicyDeny, sid: "DenyInsecureTransport", key: "aws:SecureTransport", failing: s3probe.CheckBucketPolicyDeny},
	{event: "s3-bucket-policy-deny-encryption.json", cause: denial.CauseBucketPolicyDeny, sid: "DenyUnencryptedUploads", key: "s3:x-amz-server-side-encryption", failing: s3probe.CheckBucketPolicyDeny},
	{event: "s3-bucket-policy-missing-allow.json", cause: denial.CauseBucketPolicyMissingAllow, failing: s3probe.CheckBucketPolicyAllow},
	{event: "s3-block-public-access.json", cause: denial.CauseBlockPublicAccess, failing: s3probe.CheckBlockPublicAccess},
	{event: "s3-kms.json", cause: denial.CauseKMS, failing: s3probe.CheckKMS},
	{event: "s3-missing-object-masked.json", cause: denial.CauseMissingObjectMasked, failing: s3probe.CheckObjectExists},
	{event: "s3-policy-arn-whitespace.json", cause: denial.CausePolicyARNWhitespace, sid: "PartnerRead", failing: s3probe.CheckPolicyARN, fix: fix.KindS3BucketPolicyARNWhitespace},
	{event: "s3-access-point-policy.json", cause: denial.CauseAccessPointPolicy, failing: s3probe.CheckAccessPoint},
	{event: "s3-vpc-endpoint-policy.json", cause: denial.CauseVPCEndpointPolicy, failing: s3probe.CheckVPCEndpoint},
	{event: "s3-presigned-url-expired.json", cause: denial.CausePresignedURLExpired, failing: s3probe.CheckPresignedURL},
	{event: "s3-org-policy-deny.json", cause: denial.CauseOrgPolicyDeny, failing: diagnosis.CheckOtherPolicies},
	{event: "s3-iam-permissions.json", cause: denial.CauseIAMPermissions}, // decided from the message: no S3 call reads identity policies
	{event: "s3-permissions-boundary.json", cause: denial.CausePermissionsBoundary, failing: diagnosis.CheckOtherPolicies},
}

// build creates the sample world behind event and adjusts rec to it.
func build(tb testing.TB, c clients, event string, rec *cloudtrail.Record) {
	tb.Helper()
	adjust, err := sampleworld.Build(ctx, c.world(), event)
	if err != nil {
		tb.Fatal(err)
	}
	adjust(rec)
}

func TestDiagnoseAgainstMoto(t *testing.T) {
	srv := mototest.Start(t)
	c := newClients(srv.Config(), srv.URL)
	runner := c.runner()
	for _, sc := range motoScenarios {
		t.Run(strings.TrimSuffix(sc.event, ".json"), func(t *testing.T) {
			srv.Reset(t)
			rec := loadEvent(t, sc.event)
			build(t, c, sc.event, &rec)
			d, ok := runner.Diagnose(ctx, rec)
			if !ok {
				t.Fatalf("Diagnose: not a denial")
			}
			assertDiagnosis(t, d, sc)
		})
	}
}

// TestEverySampleWorldIsChecked: each world package sampleworld builds has
// its expected diagnosis here (the session policy's is in session_test.go).
func TestEverySampleWorldIsChecked(t *testing.T) {
	for _, event := range sampleworld.Events() {
		covered := event == "s3-session-policy.json" || slices.ContainsFunc(motoScenarios, func(sc scenario) bool { return sc.event == event })
		if !covered {
			t.Errorf("sample world %s: got no expected diagnosis; want one in motoScenarios", event)
		}
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
