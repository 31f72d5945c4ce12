package diagnosis_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/s3probe"
)

// runFake diagnoses one sample event against a fake S3 built from the
// healthy bucket with the given responses replaced.
func runFake(t *testing.T, event string, change func(r map[string]fakeResponse)) diagnosis.Diagnosis {
	t.Helper()
	return runFakeRecord(t, loadEvent(t, event), change)
}

// runFakeRecord is runFake for a record the test has adjusted.
func runFakeRecord(t *testing.T, rec cloudtrail.Record, change func(r map[string]fakeResponse)) diagnosis.Diagnosis {
	t.Helper()
	responses := healthyBucket(rec.RequestParam("bucketName"), rec.RequestParam("key"))
	if change != nil {
		change(responses)
	}
	c := startFakeS3(t, &fakeS3{responses: responses})
	s3only := &diagnosis.Runner{Prober: &s3probe.Prober{S3: c.s3}}
	d, ok := s3only.Diagnose(ctx, rec)
	if !ok {
		t.Fatal("Diagnose: not a denial")
	}
	return d
}

func TestDiagnoseWithS3WireFormat(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		change func(r map[string]fakeResponse)
		want   scenario
	}{
		{
			name:  "object owned by the uploading account, owner-only bucket ACL",
			event: "s3-cross-account-object-ownership.json",
			change: func(r map[string]fakeResponse) {
				r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", partnerOwnerID)}
				r["GetObjectAcl"] = fakeResponse{status: 200, body: aclXML(partnerOwnerID, partnerOwnerID)}
			},
			want: scenario{cause: denial.CauseCrossAccountObjectOwnership, failing: s3probe.CheckObjectOwnership, fix: fix.KindS3EnforceBucketOwner},
		},
		{
			name:  "object owned by the uploading account, bucket ACL grants a log delivery account",
			event: "s3-cross-account-object-ownership.json",
			change: func(r map[string]fakeResponse) {
				r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", partnerOwnerID)}
				r["GetBucketAcl"] = fakeResponse{status: 200, body: aclXML(bucketOwnerID, bucketOwnerID, partnerOwnerID)}
				r["GetObjectAcl"] = s3Error(403, "AccessDenied", "Access Denied")
			},
			want: scenario{cause: denial.CauseCrossAccountObjectOwnership, failing: s3probe.CheckObjectOwnership, fix: fix.KindS3ObjectACLBucketOwnerFullControl},
		},
		{
			name:  "listing without owner and an object ACL the bucket owner cannot read",
			event: "s3-cross-account-object-ownership.json",
			change: func(r map[string]fakeResponse) {
				r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", "")}
				r["GetObjectAcl"] = s3Error(403, "AccessDenied", "Access Denied")
			},
			want: scenario{cause: denial.CauseCrossAccountObjectOwnership, failing: s3probe.CheckObjectOwnership, fix: fix.KindS3EnforceBucketOwner},
		},
		{
			// Uploaded with --acl bucket-owner-full-control: another owner,
			// but the bucket owner can read it, so ownership is not why.
			name:  "object owned by the uploading account, ACL grants the bucket owner full control",
			event: "s3-cross-account-object-ownership.json",
			change: func(r map[string]fakeResponse) {
				r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", partnerOwnerID)}
				r["GetObjectAcl"] = fakeResponse{status: 200, body: aclXML(partnerOwnerID, partnerOwnerID, bucketOwnerID)}
			},
			want: scenario{cause: denial.CauseUnknown},
		},
		{
			name:  "object ownership enforced rules ownership out",
			event: "s3-cross-account-object-ownership.json",
			change: func(r map[string]fakeResponse) {
				r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", partnerOwnerID)}
				r["GetBucketOwnershipControls"] = fakeResponse{status: 200, body: `<OwnershipControls ` + s3NS + `><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`}
			},
			want: scenario{cause: denial.CauseUnknown},
		},
		{
			name:  "requester pays without the payer header",
			event: "s3-requester-pays.json",
			change: func(r map[string]fakeResponse) {
				r["GetBucketRequestPayment"] = fakeResponse{status: 200, body: `<RequestPaymentConfiguration ` + s3NS + `><Payer>Requester</Payer></RequestPaymentConfiguration>`}
				r["GetBucketPolicy"] = fakeResponse{status: 200, body: `{"Version":"2012-10-17","Statement":[{"Sid":"ResearchAccounts","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::example-open-dataset/*"}]}`}
			},
			want: scenario{cause: denial.CauseRequesterPays, failing: s3probe.CheckRequesterPays},
		},
		{
			// moto drops BlockedEncryptionTypes (see fakeS3), so the bucket
			// that blocks SSE-C is served here in S3's own XML.
			name:   "SSE-C upload to a bucket that blocks SSE-C",
			event:  "s3-encryption-type-blocked.json",
			change: func(r map[string]fakeResponse) { r["GetBucketEncryption"] = blockedSSEC },
			want:   scenario{cause: denial.CauseEncryptionTypeBlocked, failing: s3probe.CheckEncryptionType},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runFake(t, tt.event, tt.change)
			assertDiagnosis(t, d, tt.want)
		})
	}
}

// TestDiagnoseSurvivesFailures: whatever goes wrong with the checks' own
// calls, the diagnosis keeps the explanation, says what happened in the
// evidence, and names a cause only when evidence supports one.
func TestDiagnoseSurvivesFailures(t *testing.T) {
	tests := []struct {
		name       string
		change     func(r map[string]fakeResponse)
		check      string
		wantResult s3probe.Result
		wantDetail string
		wantCause  denial.Cause
	}{
		{
			name: "bucket no longer exists",
			change: func(r map[string]fakeResponse) {
				clear(r)
				r["*"] = s3Error(404, "NoSuchBucket", "The specified bucket does not exist")
			},
			check:      s3probe.CheckBucketPolicyDeny,
			wantResult: s3probe.ResultUnknown,
			wantDetail: "no longer exists",
			wantCause:  denial.CauseUnknown,
		},
		{
			name: "bucket policy is not valid JSON",
			change: func(r map[string]fakeResponse) {
				r["GetBucketPolicy"] = fakeResponse{status: 200, body: `{"Version":"2012-10-17","Statement":[{"Sid":"Broken","Effect":"Deny",`}
			},
			check:      s3probe.CheckBucketPolicyDeny,
			wantResult: s3probe.ResultUnknown,
			wantDetail: "not valid JSON",
			wantCause:  denial.CauseUnknown,
		},
		{
			name:       "every check is denied by IAM",
			change:     func(r map[string]fakeResponse) { clear(r); r["*"] = s3Error(403, "AccessDenied", "Access Denied") },
			check:      s3probe.CheckBucketPolicyDeny,
			wantResult: s3probe.ResultUnknown,
			wantDetail: "s3:GetBucketPolicy was itself denied",
			wantCause:  denial.CauseUnknown,
		},
		{
			name: "throttled with 503 SlowDown",
			change: func(r map[string]fakeResponse) {
				clear(r)
				r["*"] = s3Error(503, "SlowDown", "Please reduce your request rate.")
			},
			check:      s3probe.CheckRequesterPays,
			wantResult: s3probe.ResultUnknown,
			wantDetail: "throttled (SlowDown)",
			wantCause:  denial.CauseUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runFake(t, "s3-bucket-policy-deny-sourceip.json", tt.change)
			if d.ErrorCode == nil || *d.ErrorCode != "AccessDenied" || d.Principal == nil {
				t.Errorf("explanation lost: errorCode %v principal %v", d.ErrorCode, d.Principal)
			}
			if d.Cause != tt.wantCause {
				t.Errorf("cause: got %v; want %v\n%s", d.Cause, tt.wantCause, evidenceText(d))
			}
			if d.Summary == "" {
				t.Error("summary empty")
			}
			for _, c := range d.Evidence {
				if c.Name != tt.check {
					continue
				}
				if c.Result != tt.wantResult || !strings.Contains(c.Detail, tt.wantDetail) {
					t.Errorf("%s: got %v %q; want %v containing %q", c.Name, c.Result, c.Detail, tt.wantResult, tt.wantDetail)
				}
				return
			}
			t.Errorf("evidence %s missing", tt.check)
		})
	}
}

// withSSEC adds the SSE-C headers CloudTrail records for a request that
// sent a customer-provided key.
func withSSEC(t *testing.T, rec cloudtrail.Record) cloudtrail.Record {
	t.Helper()
	var params map[string]any
	if err := json.Unmarshal(rec.RequestParameters, &params); err != nil {
		t.Fatal(err)
	}
	params["x-amz-server-side-encryption-customer-algorithm"] = "AES256"
	params["x-amz-server-side-encryption-customer-key-MD5"] = "tP/LI3N87DFaSk0aoqYgzg=="
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	rec.RequestParameters = b
	return rec
}

// TestDiagnoseEncryptionTypeBlocked: only an SSE-C write to a bucket that
// blocks SSE-C is encryption_type_blocked; the same write to a bucket that
// allows SSE-C, an SSE-C read, and a write whose check could not read the
// bucket's configuration are not.
func TestDiagnoseEncryptionTypeBlocked(t *testing.T) {
	tests := []struct {
		name       string
		rec        func(t *testing.T) cloudtrail.Record
		encryption fakeResponse
		wantResult s3probe.Result
		wantDetail string
		wantCause  denial.Cause
	}{
		{
			name:       "SSE-C write, SSE-C blocked",
			rec:        func(t *testing.T) cloudtrail.Record { return loadEvent(t, "s3-encryption-type-blocked.json") },
			encryption: blockedSSEC,
			wantResult: s3probe.ResultFail,
			wantDetail: "blocks SSE-C",
			wantCause:  denial.CauseEncryptionTypeBlocked,
		},
		{
			name:       "SSE-C write, SSE-C allowed",
			rec:        func(t *testing.T) cloudtrail.Record { return loadEvent(t, "s3-encryption-type-blocked.json") },
			wantResult: s3probe.ResultPass,
			wantDetail: "does not block SSE-C",
			wantCause:  denial.CauseUnknown,
		},
		{
			name:       "SSE-C read of a bucket that blocks SSE-C",
			rec:        func(t *testing.T) cloudtrail.Record { return withSSEC(t, loadEvent(t, "s3-kms.json")) },
			encryption: blockedSSEC,
			wantResult: s3probe.ResultSkipped,
			wantDetail: "reads of existing SSE-C objects still work",
			wantCause:  denial.CauseUnknown,
		},
		{
			name:       "SSE-S3 write to a bucket that blocks SSE-C",
			rec:        func(t *testing.T) cloudtrail.Record { return loadEvent(t, "s3-bucket-policy-deny-encryption.json") },
			encryption: blockedSSEC,
			wantResult: s3probe.ResultSkipped,
			wantDetail: "did not use a customer-provided key",
			wantCause:  denial.CauseUnknown,
		},
		{
			name:       "GetBucketEncryption itself denied",
			rec:        func(t *testing.T) cloudtrail.Record { return loadEvent(t, "s3-encryption-type-blocked.json") },
			encryption: s3Error(403, "AccessDenied", "Access Denied"),
			wantResult: s3probe.ResultUnknown,
			wantDetail: "s3:GetBucketEncryption was itself denied",
			wantCause:  denial.CauseUnknown,
		},
		{
			name:       "GetBucketEncryption throttled",
			rec:        func(t *testing.T) cloudtrail.Record { return loadEvent(t, "s3-encryption-type-blocked.json") },
			encryption: s3Error(503, "SlowDown", "Please reduce your request rate."),
			wantResult: s3probe.ResultUnknown,
			wantDetail: "throttled (SlowDown)",
			wantCause:  denial.CauseUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runFakeRecord(t, tt.rec(t), func(r map[string]fakeResponse) {
				if tt.encryption.status != 0 {
					r["GetBucketEncryption"] = tt.encryption
				}
			})
			if d.Cause != tt.wantCause {
				t.Errorf("cause: got %v; want %v\n%s", d.Cause, tt.wantCause, evidenceText(d))
			}
			if d.Fix != nil {
				t.Errorf("fix: got %+v; want none", *d.Fix)
			}
			for _, c := range d.Evidence {
				if c.Name != s3probe.CheckEncryptionType {
					continue
				}
				if c.Result != tt.wantResult || !strings.Contains(c.Detail, tt.wantDetail) {
					t.Errorf("%s: got %v %q; want %v containing %q", c.Name, c.Result, c.Detail, tt.wantResult, tt.wantDetail)
				}
				return
			}
			t.Errorf("evidence %s missing", s3probe.CheckEncryptionType)
		})
	}
}

// TestOwnershipOfCrossAccountCaller: a caller from another account may be
// the object's owner itself, so an object the bucket owner does not own is
// no proof that ownership denied it.
func TestOwnershipOfCrossAccountCaller(t *testing.T) {
	rec := loadEvent(t, "s3-cross-account-object-ownership.json")
	rec.UserIdentity.AccountID = "210987654321"
	rec.UserIdentity.ARN = "arn:aws:sts::210987654321:assumed-role/PartnerUploader/check"
	rec.UserIdentity.SessionContext.SessionIssuer.ARN = "arn:aws:iam::210987654321:role/PartnerUploader"
	rec.UserIdentity.SessionContext.SessionIssuer.AccountID = "210987654321"
	d := runFakeRecord(t, rec, func(r map[string]fakeResponse) {
		r["ListObjectsV2"] = fakeResponse{status: 200, body: listXML("example-partner-drop", "incoming/2026-11-20/orders.csv", partnerOwnerID)}
		r["GetBucketPolicy"] = fakeResponse{status: 200, body: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::example-partner-drop/*"}]}`}
	})
	if d.Cause == denial.CauseCrossAccountObjectOwnership || d.Fix != nil {
		t.Errorf("cause %s, fix %v; want no ownership verdict for a caller that may own the object", d.Cause, d.Fix)
	}
	for _, c := range d.Evidence {
		if c.Name == s3probe.CheckObjectOwnership && c.Result != s3probe.ResultUnknown {
			t.Errorf("ownership check: %s (%s); want unknown", c.Result, c.Detail)
		}
	}
}
