package s3probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IAMActions lists every IAM action the checks call, kept beside the calls.
var IAMActions = []string{
	"s3:GetBucketAcl",                // GetBucketAcl
	"s3:GetBucketOwnershipControls",  // GetBucketOwnershipControls
	"s3:ListBucket",                  // ListObjectsV2
	"s3:GetObjectAcl",                // GetObjectAcl
	"s3:GetObject",                   // HeadObject
	"s3:GetBucketPolicy",             // GetBucketPolicy
	"s3:GetBucketPublicAccessBlock",  // GetPublicAccessBlock (bucket)
	"s3:GetAccountPublicAccessBlock", // s3control GetPublicAccessBlock
	"s3:GetEncryptionConfiguration",  // GetBucketEncryption
	"s3:GetBucketRequestPayment",     // GetBucketRequestPayment
	"s3:GetAccessPointPolicy",        // s3control GetAccessPointPolicy
	"kms:GetKeyPolicy",               // GetKeyPolicy
	"ec2:DescribeVpcEndpoints",       // DescribeVpcEndpoints
}

// S3API is the part of *s3.Client the checks use.
type S3API interface {
	GetBucketAcl(ctx context.Context, params *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetBucketOwnershipControls(ctx context.Context, params *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObjectAcl(ctx context.Context, params *s3.GetObjectAclInput, optFns ...func(*s3.Options)) (*s3.GetObjectAclOutput, error)
	HeadObject(ctx context.Context, params *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetPublicAccessBlock(ctx context.Context, params *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketEncryption(ctx context.Context, params *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetBucketRequestPayment(ctx context.Context, params *s3.GetBucketRequestPaymentInput, optFns ...func(*s3.Options)) (*s3.GetBucketRequestPaymentOutput, error)
}

// S3ControlAPI is the part of *s3control.Client the checks use.
type S3ControlAPI interface {
	GetPublicAccessBlock(ctx context.Context, params *s3control.GetPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
	GetAccessPointPolicy(ctx context.Context, params *s3control.GetAccessPointPolicyInput, optFns ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyOutput, error)
}

// KMSAPI is the part of *kms.Client the checks use.
type KMSAPI interface {
	GetKeyPolicy(ctx context.Context, params *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// EC2API is the part of *ec2.Client the checks use.
type EC2API interface {
	DescribeVpcEndpoints(ctx context.Context, params *ec2.DescribeVpcEndpointsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
}

// Prober runs the checks. A nil client turns its checks into "unknown"
// evidence saying so, rather than failing the diagnosis.
type Prober struct {
	S3        S3API
	S3Control S3ControlAPI
	KMS       KMSAPI
	EC2       EC2API
	// CallTimeout bounds each API call; zero means DefaultCallTimeout.
	CallTimeout time.Duration
}

// DefaultCallTimeout bounds one API call: long enough for a slow region,
// short enough that one stuck call cannot hold a diagnosis.
const DefaultCallTimeout = 5 * time.Second

// New returns a Prober over the given clients.
func New(s3c S3API, control S3ControlAPI, kmsc KMSAPI, ec2c EC2API) *Prober {
	return &Prober{S3: s3c, S3Control: control, KMS: kmsc, EC2: ec2c}
}

// Run runs every check concurrently and returns them in a fixed order.
// Bound the whole run with ctx's deadline; a check still waiting when it
// passes reports "unknown".
func (p *Prober) Run(ctx context.Context, t Target) []Check {
	s := &session{p: p, t: t, ctx: ctx}
	s.init()
	probes := []func(context.Context) Check{
		s.presignedURL,
		s.bucketPolicyDeny,
		s.bucketPolicyAllow,
		s.policyARNs,
		s.blockPublicAccess,
		s.objectExists,
		s.objectOwnership,
		s.kmsKeyPolicy,
		s.requesterPays,
		s.accessPoint,
		s.vpcEndpoint,
		s.encryptionType,
	}
	out := make([]Check, len(probes))
	var wg sync.WaitGroup
	for i, probe := range probes {
		wg.Go(func() { out[i] = probe(ctx) })
	}
	wg.Wait()
	return out
}

// lazy runs one API call at most once, however many checks need its answer.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
	f    func() (T, error)
}

func (l *lazy[T]) get() (T, error) {
	l.once.Do(func() { l.v, l.err = l.f() })
	return l.v, l.err
}

// session is one run: the target and the answers shared between checks.
type session struct {
	p            *Prober
	t            Target
	bucketPolicy lazy[*s3.GetBucketPolicyOutput]
	head         lazy[*s3.HeadObjectOutput]
	// encryption is the bucket's default encryption configuration, read at
	// most once for the KMS check (default key) and the blocked encryption
	// type check.
	encryption lazy[*s3.GetBucketEncryptionOutput]
	ctx        context.Context
}

func (s *session) init() {
	s.bucketPolicy.f = func() (*s3.GetBucketPolicyOutput, error) {
		return call(s.ctx, s.p, func(ctx context.Context) (*s3.GetBucketPolicyOutput, error) {
			return s.p.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &s.t.Bucket}, s.s3opts)
		})
	}
	s.head.f = func() (*s3.HeadObjectOutput, error) {
		return call(s.ctx, s.p, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
			return s.p.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.t.Bucket, Key: &s.t.Key}, s.s3opts)
		})
	}
	s.encryption.f = func() (*s3.GetBucketEncryptionOutput, error) {
		return call(s.ctx, s.p, func(ctx context.Context) (*s3.GetBucketEncryptionOutput, error) {
			return s.p.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &s.t.Bucket}, s.s3opts)
		})
	}
}

// s3opts sends S3 calls to the region the denied request went to.
func (s *session) s3opts(o *s3.Options) {
	if s.t.Region != "" {
		o.Region = s.t.Region
	}
}

// call runs one API call under the per-call timeout.
func call[T any](ctx context.Context, p *Prober, f func(context.Context) (T, error)) (T, error) {
	d := p.CallTimeout
	if d <= 0 {
		d = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// errorCode returns the AWS error code of err, or the HTTP status for
// bodiless errors (HEAD answers), or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() != "" {
		return api.ErrorCode()
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		return http.StatusText(resp.HTTPStatusCode())
	}
	return ""
}

func statusCode(err error) int {
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}

// isDenied, isThrottled and isMissingBucket classify the errors a check
// turns into evidence.
func isDenied(err error) bool {
	c := errorCode(err)
	return c == "AccessDenied" || c == "AccessDeniedException" || c == "Forbidden" || c == "UnauthorizedOperation" || statusCode(err) == http.StatusForbidden
}

func isThrottled(err error) bool {
	switch errorCode(err) {
	case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "ServiceUnavailable":
		return true
	}
	return statusCode(err) == http.StatusServiceUnavailable || statusCode(err) == http.StatusTooManyRequests
}

func isMissingBucket(err error) bool { return errorCode(err) == "NoSuchBucket" }

func isNotFound(err error) bool {
	c := errorCode(err)
	return c == "NotFound" || c == "NoSuchKey" || c == "Not Found" || statusCode(err) == http.StatusNotFound && !isMissingBucket(err)
}

// failed turns an error of a check's own call into evidence: the check
// could not tell, and the detail says exactly why.
func failed(name string, calls []string, op string, err error) Check {
	c := Check{Name: name, Result: ResultUnknown, Calls: calls}
	switch {
	case isMissingBucket(err):
		c.Detail = fmt.Sprintf("%s: the bucket no longer exists (NoSuchBucket)", op)
		c.Facts.BucketMissing = true
	case isDenied(err):
		c.Detail = fmt.Sprintf("%s was itself denied: grant denyfix %s to run this check", op, opAction(op))
	case isThrottled(err):
		c.Detail = fmt.Sprintf("%s was throttled (%s): run the diagnosis again later", op, errorCode(err))
	case errors.Is(err, context.DeadlineExceeded):
		c.Detail = fmt.Sprintf("%s timed out", op)
	default:
		c.Detail = fmt.Sprintf("%s failed: %v", op, err)
	}
	return c
}

// opActions maps the operations the checks call to their IAM actions.
var opActions = map[string]string{
	"s3:GetBucketAcl":                "s3:GetBucketAcl",
	"s3:GetBucketOwnershipControls":  "s3:GetBucketOwnershipControls",
	"s3:ListObjectsV2":               "s3:ListBucket",
	"s3:GetObjectAcl":                "s3:GetObjectAcl",
	"s3:HeadObject":                  "s3:GetObject",
	"s3:GetBucketPolicy":             "s3:GetBucketPolicy",
	"s3:GetPublicAccessBlock":        "s3:GetBucketPublicAccessBlock",
	"s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
	"s3:GetBucketEncryption":         "s3:GetEncryptionConfiguration",
	"s3:GetBucketRequestPayment":     "s3:GetBucketRequestPayment",
	"s3control:GetAccessPointPolicy": "s3:GetAccessPointPolicy",
	"kms:GetKeyPolicy":               "kms:GetKeyPolicy",
	"ec2:DescribeVpcEndpoints":       "ec2:DescribeVpcEndpoints",
}

func opAction(op string) string {
	if a, ok := opActions[op]; ok {
		return a
	}
	return op
}
