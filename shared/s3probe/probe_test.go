package s3probe

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/cloudtrail"
)

func sampleRecord(t *testing.T, name string) cloudtrail.Record {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	_, rec, err := cloudtrail.DecodeEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestNewTarget(t *testing.T) {
	tests := []struct {
		event                         string
		action, arn, bucketAccount    string
		crossAccount, anonymous, read bool
		accessPoint                   string
	}{
		{"s3-kms.json", "s3:GetObject", "arn:aws:s3:::example-encrypted-data/customers/2026-11.parquet", "123456789012", false, false, true, ""},
		{"s3-bucket-policy-missing-allow.json", "s3:GetObject", "arn:aws:s3:::example-shared-catalog/catalog/products.json", "123456789012", true, false, true, ""},
		{"s3-block-public-access.json", "s3:GetObject", "arn:aws:s3:::example-public-site/index.html", "123456789012", true, true, true, ""},
		{"s3-bucket-policy-deny-mfa.json", "s3:DeleteObject", "arn:aws:s3:::example-audit-logs/2026/11/20/trail.json.gz", "123456789012", false, false, false, ""},
		{"s3-access-point-policy.json", "s3:GetObject", "arn:aws:s3:::example-datalake/curated/sales/2026-11.parquet", "123456789012", true, false, true, "arn:aws:s3:us-east-1:123456789012:accesspoint/partner-read"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			tg, ok := NewTarget(sampleRecord(t, tt.event))
			if !ok {
				t.Fatal("not a target")
			}
			if tg.Action != tt.action || tg.ObjectARN() != tt.arn || tg.BucketAccount != tt.bucketAccount {
				t.Errorf("got %s %s account %q; want %s %s %q", tg.Action, tg.ObjectARN(), tg.BucketAccount, tt.action, tt.arn, tt.bucketAccount)
			}
			if tg.CrossAccount() != tt.crossAccount || tg.Anonymous != tt.anonymous || tg.IsRead() != tt.read || tg.AccessPoint != tt.accessPoint {
				t.Errorf("cross %v anonymous %v read %v ap %q; want %v %v %v %q", tg.CrossAccount(), tg.Anonymous, tg.IsRead(), tg.AccessPoint, tt.crossAccount, tt.anonymous, tt.read, tt.accessPoint)
			}
		})
	}
	if _, ok := NewTarget(cloudtrail.Record{EventSource: "kms.amazonaws.com", EventName: "Decrypt"}); ok {
		t.Error("a KMS record is not an S3 target")
	}
}

func TestOperationActions(t *testing.T) {
	for op, want := range map[string]string{"HeadObject": "s3:GetObject", "ListObjectsV2": "s3:ListBucket", "CopyObject": "s3:PutObject", "PostObject": "s3:PutObject", "GetObjectAcl": "s3:GetObjectAcl", "PutBucketPolicy": "s3:PutBucketPolicy",
		"PutBucketEncryption": "s3:PutEncryptionConfiguration", "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock", "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration"} {
		tg, _ := NewTarget(cloudtrail.Record{EventSource: "s3.amazonaws.com", EventName: op, RequestParameters: json.RawMessage(`{"bucketName":"b","key":"k"}`)})
		if tg.Action != want {
			t.Errorf("%s: got %s; want %s", op, tg.Action, want)
		}
	}
}

func TestKeyVariants(t *testing.T) {
	tests := []struct {
		key  string
		want []string
	}{
		{"reports/q3+summary.csv", []string{"reports/q3 summary.csv"}},
		{"reports/q3%20summary.csv", []string{"reports/q3 summary.csv"}},
		{"reports/q3 summary.csv", []string{"reports/q3+summary.csv"}},
		{"plain.csv", nil},
	}
	for _, tt := range tests {
		if got := keyVariants(tt.key); !slices.Equal(got, tt.want) {
			t.Errorf("keyVariants(%q): got %q; want %q", tt.key, got, tt.want)
		}
	}
}

// TestIAMActionsCoverCalls: every API call a check reports maps to an IAM
// action in IAMActions, so the deployed role can run every check.
func TestIAMActionsCoverCalls(t *testing.T) {
	for op, action := range opActions {
		if !slices.Contains(IAMActions, action) {
			t.Errorf("%s needs %s, missing from IAMActions", op, action)
		}
	}
	for _, a := range IAMActions {
		if !slices.Contains(slices.Collect(mapsValues(opActions)), a) {
			t.Errorf("IAMActions lists %s, which no check calls", a)
		}
	}
	src, err := os.ReadFile("checks.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, line := range strings.Split(string(src), "\n") {
		for op := range strings.SplitSeq(line, `"`) {
			if (strings.HasPrefix(op, "s3:") || strings.HasPrefix(op, "s3control:") || strings.HasPrefix(op, "kms:Get") || strings.HasPrefix(op, "ec2:")) &&
				strings.Contains(line, "Calls") && !strings.ContainsAny(op, " *") {
				seen++
				if _, ok := opActions[op]; !ok {
					t.Errorf("checks.go reports call %s without an IAM action", op)
				}
			}
		}
	}
	if seen < len(opActions) {
		t.Errorf("found %d reported calls in checks.go; want at least %d", seen, len(opActions))
	}
}

func mapsValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func TestRunWithoutClients(t *testing.T) {
	tg, _ := NewTarget(sampleRecord(t, "s3-vpc-endpoint-policy.json"))
	checks := (&Prober{}).Run(context.Background(), tg)
	if len(checks) != 12 {
		t.Fatalf("got %d checks; want 12", len(checks))
	}
	for _, c := range checks {
		if c.Result == ResultFail || c.Result == ResultPass && c.Name != CheckPresignedURL {
			t.Errorf("%s: got %v (%s) without any client; want unknown or skipped", c.Name, c.Result, c.Detail)
		}
		if c.Detail == "" || c.Calls == nil {
			t.Errorf("%s: detail %q calls %v; want both", c.Name, c.Detail, c.Calls)
		}
	}
}

// stuckS3 never answers: each call waits for its context.
type stuckS3 struct{ S3API }

func (stuckS3) GetBucketRequestPayment(ctx context.Context, _ *s3.GetBucketRequestPaymentInput, _ ...func(*s3.Options)) (*s3.GetBucketRequestPaymentOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestPerCallTimeout(t *testing.T) {
	tg, _ := NewTarget(sampleRecord(t, "s3-requester-pays.json"))
	s := &session{p: &Prober{S3: stuckS3{}, CallTimeout: 10 * time.Millisecond}, t: tg, ctx: context.Background()}
	s.init()
	c := s.requesterPays(context.Background())
	if c.Result != ResultUnknown || !strings.Contains(c.Detail, "timed out") {
		t.Errorf("got %v %q; want unknown, timed out", c.Result, c.Detail)
	}
}

func TestResultJSON(t *testing.T) {
	for _, r := range []Result{ResultUnknown, ResultPass, ResultFail, ResultSkipped} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil || back != r {
			t.Errorf("%v: round trip got %v, %v", r, back, err)
		}
	}
	var r Result
	if err := json.Unmarshal([]byte(`"maybe"`), &r); err == nil {
		t.Error(`"maybe": got nil error; want one`)
	}
}

func TestObjectARNPartition(t *testing.T) {
	for _, tt := range []struct{ region, want string }{
		{"eu-west-1", "arn:aws:s3:::b/k"},
		{"cn-north-1", "arn:aws-cn:s3:::b/k"},
		{"us-gov-west-1", "arn:aws-us-gov:s3:::b/k"},
	} {
		got := Target{Bucket: "b", Key: "k", Action: "s3:GetObject", Region: tt.region}.ObjectARN()
		if got != tt.want {
			t.Errorf("ObjectARN in %s: got %s; want %s", tt.region, got, tt.want)
		}
	}
}
