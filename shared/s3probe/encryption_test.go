package s3probe

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// encryptionS3 answers GetBucketEncryption with a fixed answer and counts
// the calls; any other S3 call panics, proving the check makes none.
type encryptionS3 struct {
	S3API
	out   *s3.GetBucketEncryptionOutput
	err   error
	calls atomic.Int64
}

func (e *encryptionS3) GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	e.calls.Add(1)
	return e.out, e.err
}

// defaultEncryption is a GetBucketEncryption answer: SSE-S3 by default,
// blocking the given encryption types (none: the element is absent).
func defaultEncryption(blocked ...s3types.EncryptionType) *s3.GetBucketEncryptionOutput {
	rule := s3types.ServerSideEncryptionRule{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
	}
	if len(blocked) > 0 {
		rule.BlockedEncryptionTypes = &s3types.BlockedEncryptionTypes{EncryptionType: blocked}
	}
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{rule}}}
}

// withRequest rewrites the sample record's operation, request parameters
// and additional event data (nil keeps them).
func withRequest(t *testing.T, eventName string, params, extra map[string]any) Target {
	t.Helper()
	rec := sampleRecord(t, "s3-encryption-type-blocked.json")
	if eventName != "" {
		rec.EventName = eventName
	}
	if params != nil {
		params["bucketName"], params["key"] = "example-vault-archive", "ledgers/2026/11/ledger-0042.csv"
		b, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		rec.RequestParameters = b
	}
	if extra != nil {
		b, err := json.Marshal(extra)
		if err != nil {
			t.Fatal(err)
		}
		rec.AdditionalEventData = b
	}
	tg, ok := NewTarget(rec)
	if !ok {
		t.Fatal("not an S3 target")
	}
	return tg
}

func TestEncryptionTypeBlocked(t *testing.T) {
	sseC := map[string]any{"x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key-MD5": "tP/LI3N87DFaSk0aoqYgzg=="}
	blocked := defaultEncryption(s3types.EncryptionTypeSseC)
	tests := []struct {
		name       string
		event      string // operation replacing PutObject, "" keeps it
		params     map[string]any
		extra      map[string]any
		out        *s3.GetBucketEncryptionOutput
		err        error
		noClient   bool
		want       Result
		wantDetail string
		wantCalls  int64
	}{
		{name: "SSE-C PutObject to a bucket blocking SSE-C", out: blocked, want: ResultFail, wantDetail: "blocks SSE-C", wantCalls: 1},
		{name: "SSE-C named in another letter case", params: map[string]any{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}, out: blocked, want: ResultFail, wantDetail: "X-Amz-Server-Side-Encryption-Customer-Algorithm", wantCalls: 1},
		{name: "SSE-C CopyObject destination", event: "CopyObject", params: map[string]any{"x-amz-copy-source": "example-staging/ledger.csv", "x-amz-server-side-encryption-customer-algorithm": "AES256"}, out: blocked, want: ResultFail, wantCalls: 1},
		{name: "SSE-C CreateMultipartUpload", event: "CreateMultipartUpload", params: sseC, out: blocked, want: ResultFail, wantCalls: 1},
		{name: "SSE-C UploadPart", event: "UploadPart", params: sseC, out: blocked, want: ResultFail, wantCalls: 1},
		{name: "SSE-C PostObject", event: "PostObject", params: sseC, out: blocked, want: ResultFail, wantCalls: 1},
		{name: "SSE-C shown only as SSEApplied", params: map[string]any{}, extra: map[string]any{"SignatureVersion": "SigV4", "SSEApplied": "SSE_C"}, out: blocked, want: ResultFail, wantDetail: "SSEApplied", wantCalls: 1},
		{name: "SSE-C shown only as SSECustomerAlgorithm", params: map[string]any{}, extra: map[string]any{"SSECustomerAlgorithm": "AES256"}, out: blocked, want: ResultFail, wantDetail: "SSECustomerAlgorithm", wantCalls: 1},
		{name: "SSE-C allowed: nothing blocked", out: defaultEncryption(), want: ResultPass, wantDetail: "does not block SSE-C", wantCalls: 1},
		{name: "SSE-C allowed: NONE blocked", out: defaultEncryption(s3types.EncryptionTypeNone), want: ResultPass, wantCalls: 1},
		{name: "no default encryption configuration", err: &smithy.GenericAPIError{Code: "ServerSideEncryptionConfigurationNotFoundError"}, want: ResultPass, wantCalls: 1},
		{name: "GetBucketEncryption denied", err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}, want: ResultUnknown, wantDetail: "grant denyfix s3:GetEncryptionConfiguration", wantCalls: 1},
		{name: "GetBucketEncryption throttled", err: &smithy.GenericAPIError{Code: "SlowDown"}, want: ResultUnknown, wantDetail: "throttled (SlowDown)", wantCalls: 1},
		{name: "no S3 client", noClient: true, want: ResultUnknown, wantDetail: "no S3 client configured"},
		{name: "SSE-C GetObject is a read", event: "GetObject", params: sseC, out: blocked, want: ResultSkipped, wantDetail: "reads of existing SSE-C objects still work"},
		{name: "SSE-C HeadObject is a read", event: "HeadObject", params: sseC, out: blocked, want: ResultSkipped},
		{name: "SSE-S3 PutObject", params: map[string]any{"x-amz-server-side-encryption": "AES256"}, out: blocked, want: ResultSkipped, wantDetail: "did not use a customer-provided key"},
		{name: "SSE-C only for the copy source", event: "CopyObject", params: map[string]any{"x-amz-copy-source": "example-staging/ledger.csv", "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256"}, out: blocked, want: ResultSkipped},
		{name: "empty SSE-C header", params: map[string]any{"x-amz-server-side-encryption-customer-algorithm": ""}, out: blocked, want: ResultSkipped},
		{name: "SSEApplied SSE-S3", params: map[string]any{}, extra: map[string]any{"SSEApplied": "Default_SSE_S3"}, out: blocked, want: ResultSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := withRequest(t, tt.event, tt.params, tt.extra)
			fake := &encryptionS3{out: tt.out, err: tt.err}
			p := &Prober{S3: fake}
			if tt.noClient {
				p.S3 = nil
			}
			s := &session{p: p, t: tg, ctx: context.Background()}
			s.init()
			c := s.encryptionType(context.Background())
			if c.Name != CheckEncryptionType {
				t.Errorf("name: got %q; want %q", c.Name, CheckEncryptionType)
			}
			if c.Result != tt.want || !strings.Contains(c.Detail, tt.wantDetail) {
				t.Errorf("got %v %q; want %v containing %q", c.Result, c.Detail, tt.want, tt.wantDetail)
			}
			if got := fake.calls.Load(); got != tt.wantCalls {
				t.Errorf("GetBucketEncryption calls: got %d; want %d", got, tt.wantCalls)
			}
			if got := int64(len(c.Calls)); got != tt.wantCalls {
				t.Errorf("reported calls: got %v; want %d", c.Calls, tt.wantCalls)
			}
		})
	}
}

// TestKMSIgnoresDefaultKeyForSSEC: an SSE-C write is encrypted with the
// request's own key, so the bucket's default KMS key cannot deny it.
func TestKMSIgnoresDefaultKeyForSSEC(t *testing.T) {
	tests := []struct {
		name      string
		params    map[string]any
		want      Result
		wantCalls int64
	}{
		{"SSE-C write", map[string]any{"x-amz-server-side-encryption-customer-algorithm": "AES256"}, ResultPass, 0},
		{"write with the bucket default", map[string]any{}, ResultPass, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &encryptionS3{out: defaultEncryption(s3types.EncryptionTypeSseC)}
			s := &session{p: &Prober{S3: fake}, t: withRequest(t, "", tt.params, nil), ctx: context.Background()}
			s.init()
			c := s.kmsKeyPolicy(context.Background())
			if c.Result != tt.want {
				t.Errorf("got %v (%s); want %v", c.Result, c.Detail, tt.want)
			}
			if got := fake.calls.Load(); got != tt.wantCalls {
				t.Errorf("GetBucketEncryption calls: got %d; want %d", got, tt.wantCalls)
			}
		})
	}
}
