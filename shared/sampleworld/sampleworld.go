// Package sampleworld builds the live AWS configuration behind the S3 sample
// events of events/: the buckets, objects, bucket policies, Block Public
// Access settings, KMS key, access point and VPC endpoint whose state makes
// each sample denial happen for the reason its name says. It is written for
// a private moto server (the diagnosis integration tests and `denyfix demo`
// build it there); every call is a real SDK call, so the same world could be
// built in a sandbox account.
//
// Every sample's world uses its own bucket, so all of them can live in one
// server at once.
package sampleworld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/denyfix/denyfix/shared/cloudtrail"
)

// Account is the account every sample bucket lives in: moto's account, and
// the bucket owner the S3 sample events name.
const Account = "123456789012"

// Region is the region of the sample events and of the world.
const Region = "us-east-1"

// S3API is the part of *s3.Client Build uses.
type S3API interface {
	CreateBucket(ctx context.Context, params *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	PutBucketPolicy(ctx context.Context, params *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	PutPublicAccessBlock(ctx context.Context, params *s3.PutPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
}

// ControlAPI is the part of *s3control.Client Build uses.
type ControlAPI interface {
	CreateAccessPoint(ctx context.Context, params *s3control.CreateAccessPointInput, optFns ...func(*s3control.Options)) (*s3control.CreateAccessPointOutput, error)
	PutAccessPointPolicy(ctx context.Context, params *s3control.PutAccessPointPolicyInput, optFns ...func(*s3control.Options)) (*s3control.PutAccessPointPolicyOutput, error)
}

// KMSAPI is the part of *kms.Client Build uses.
type KMSAPI interface {
	CreateKey(ctx context.Context, params *kms.CreateKeyInput, optFns ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
}

// EC2API is the part of *ec2.Client Build uses.
type EC2API interface {
	CreateVpc(ctx context.Context, params *ec2.CreateVpcInput, optFns ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error)
	CreateVpcEndpoint(ctx context.Context, params *ec2.CreateVpcEndpointInput, optFns ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error)
}

// Clients are the clients the world is built with. S3 must use path-style
// addressing against a local endpoint, and Control an endpoint resolver
// that does not put the account in the host name
// (s3probe.StaticControlEndpoint).
type Clients struct {
	S3      S3API
	Control ControlAPI
	KMS     KMSAPI
	EC2     EC2API
}

// Adjust rewrites the parts of a sample record that name something the
// server assigned itself (a VPC endpoint ID), so the record points at the
// world that was built. It is never nil.
type Adjust func(rec *cloudtrail.Record)

// ErrNoWorld means the sample event has no world here: its cause cannot be
// modelled in moto (cross-account object ownership, Requester Pays, ...)
// or it is not an S3 sample.
var ErrNoWorld = errors.New("no sample world for this event")

// world is the configuration behind one sample event.
type world struct {
	event string
	// buckets are the buckets build creates, the first one the event's.
	buckets []string
	build   func(ctx context.Context, c Clients) (Adjust, error)
}

// Events lists the sample event files (e.g. "s3-kms.json") that have a
// world, in a stable order.
func Events() []string {
	out := make([]string, len(worlds))
	for i, w := range worlds {
		out[i] = w.event
	}
	return out
}

// Buckets lists every bucket the worlds create, sorted.
func Buckets() []string {
	var out []string
	for _, w := range worlds {
		out = append(out, w.buckets...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Build creates the world behind one sample event (its file name, e.g.
// "s3-kms.json") and returns how to adjust the event's record to it. It
// fails with ErrNoWorld for an event without one, and with the failed
// call's error otherwise.
func Build(ctx context.Context, c Clients, event string) (Adjust, error) {
	i := slices.IndexFunc(worlds, func(w world) bool { return w.event == event })
	if i < 0 {
		return nil, fmt.Errorf("%s: %w", event, ErrNoWorld)
	}
	adjust, err := worlds[i].build(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("sample world for %s: %w", event, err)
	}
	if adjust == nil {
		adjust = func(*cloudtrail.Record) {}
	}
	return adjust, nil
}

// Policy renders a policy document of the given statements the way people
// write them (indented JSON).
func Policy(statements ...map[string]any) string {
	b, err := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": statements}, "", "  ")
	if err != nil { // maps of strings, slices and bools always encode
		panic(fmt.Sprintf("sampleworld: encode policy: %v", err))
	}
	return string(b)
}

// CreateBucket creates a bucket holding the given object keys.
func CreateBucket(ctx context.Context, api S3API, bucket string, keys ...string) error {
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	for _, k := range keys {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("sample")}); err != nil {
			return fmt.Errorf("put object s3://%s/%s: %w", bucket, k, err)
		}
	}
	return nil
}

// bucketWithPolicy creates a bucket holding keys and sets its policy.
func bucketWithPolicy(ctx context.Context, c Clients, bucket, policy string, keys ...string) error {
	if err := CreateBucket(ctx, c.S3, bucket, keys...); err != nil {
		return err
	}
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return fmt.Errorf("put bucket policy on %s: %w", bucket, err)
	}
	return nil
}

// plainBucket is the world of a sample whose cause is not in the bucket's
// configuration: the bucket and its objects exist, nothing else is set.
func plainBucket(bucket string, keys ...string) func(ctx context.Context, c Clients) (Adjust, error) {
	return func(ctx context.Context, c Clients) (Adjust, error) {
		return nil, CreateBucket(ctx, c.S3, bucket, keys...)
	}
}

// policyBucket is the world of a sample decided by the bucket policy alone.
func policyBucket(bucket, policy string, keys ...string) func(ctx context.Context, c Clients) (Adjust, error) {
	return func(ctx context.Context, c Clients) (Adjust, error) {
		return nil, bucketWithPolicy(ctx, c, bucket, policy, keys...)
	}
}

var worlds = []world{
	{
		event:   "s3-bucket-policy-deny-vpce.json",
		buckets: []string{"example-finance-reports"},
		build: policyBucket("example-finance-reports", Policy(map[string]any{
			"Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{"arn:aws:s3:::example-finance-reports", "arn:aws:s3:::example-finance-reports/*"},
			"Condition": map[string]any{"StringNotEquals": map[string]any{"aws:SourceVpce": "vpce-0123456789abcdef0"}},
		}), "monthly/2026-10.pdf"),
	},
	{
		event:   "s3-bucket-policy-deny-sourceip.json",
		buckets: []string{"example-build-artifacts"},
		build: policyBucket("example-build-artifacts", Policy(map[string]any{
			"Sid": "AllowReadFromOffice", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"},
			"Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-build-artifacts/*",
		}, map[string]any{
			"Sid": "DenyOutsideOffice", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  "arn:aws:s3:::example-build-artifacts/*",
			"Condition": map[string]any{"NotIpAddress": map[string]any{"aws:SourceIp": []string{"203.0.113.0/24", "2001:db8:1234::/48"}}},
		}), "releases/app-1.4.2.tar.gz"),
	},
	{
		event:   "s3-bucket-policy-deny-mfa.json",
		buckets: []string{"example-audit-logs"},
		build: policyBucket("example-audit-logs", Policy(map[string]any{
			"Sid": "RequireMFAForDelete", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action":    []string{"s3:DeleteObject", "s3:DeleteObjectVersion"},
			"Resource":  "arn:aws:s3:::example-audit-logs/*",
			"Condition": map[string]any{"BoolIfExists": map[string]any{"aws:MultiFactorAuthPresent": false}},
		}), "2026/11/20/trail.json.gz"),
	},
	{
		event:   "s3-bucket-policy-deny-securetransport.json",
		buckets: []string{"example-exports"},
		build: policyBucket("example-exports", Policy(map[string]any{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{"arn:aws:s3:::example-exports", "arn:aws:s3:::example-exports/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})),
	},
	{
		event:   "s3-bucket-policy-deny-encryption.json",
		buckets: []string{"example-secure-uploads"},
		build: policyBucket("example-secure-uploads", Policy(map[string]any{
			"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
			"Resource":  "arn:aws:s3:::example-secure-uploads/*",
			"Condition": map[string]any{"StringNotEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}},
		})),
	},
	{
		event:   "s3-bucket-policy-missing-allow.json",
		buckets: []string{"example-shared-catalog"},
		build: policyBucket("example-shared-catalog", Policy(map[string]any{
			"Sid": "AllowOtherPartner", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444455556666:root"},
			"Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-shared-catalog/*",
		}), "catalog/products.json"),
	},
	{
		event:   "s3-block-public-access.json",
		buckets: []string{"example-public-site"},
		build: func(ctx context.Context, c Clients) (Adjust, error) {
			err := bucketWithPolicy(ctx, c, "example-public-site", Policy(map[string]any{
				"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
				"Resource": "arn:aws:s3:::example-public-site/*",
			}), "index.html")
			if err != nil {
				return nil, err
			}
			_, err = c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("example-public-site"),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true), IgnorePublicAcls: aws.Bool(true)}})
			if err != nil {
				return nil, fmt.Errorf("put public access block on example-public-site: %w", err)
			}
			return nil, nil
		},
	},
	{
		event:   "s3-kms.json",
		buckets: []string{"example-encrypted-data"},
		build: func(ctx context.Context, c Clients) (Adjust, error) {
			key, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(Policy(map[string]any{
				"Sid": "KeyAdminsOnly", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:role/KeyAdmin"},
				"Action": "kms:*", "Resource": "*",
			}))})
			if err != nil {
				return nil, fmt.Errorf("create KMS key: %w", err)
			}
			if err := CreateBucket(ctx, c.S3, "example-encrypted-data"); err != nil {
				return nil, err
			}
			_, err = c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("example-encrypted-data"), Key: aws.String("customers/2026-11.parquet"),
				Body: strings.NewReader("PAR1"), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: key.KeyMetadata.Arn})
			if err != nil {
				return nil, fmt.Errorf("put SSE-KMS object: %w", err)
			}
			return nil, nil
		},
	},
	{
		event:   "s3-missing-object-masked.json",
		buckets: []string{"example-report-archive"},
		build:   plainBucket("example-report-archive", "reports/2026/q2 summary.csv"),
	},
	{
		event:   "s3-policy-arn-whitespace.json",
		buckets: []string{"example-bucket-shared"},
		build: policyBucket("example-bucket-shared", Policy(map[string]any{
			"Sid": "PartnerRead", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::111122223333:root"},
			"Action": "s3:GetObject", "Resource": "arn:aws:s3::: example-bucket-shared/*",
		}, map[string]any{
			"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
			"Resource": "arn:aws:s3:::example-bucket-shared",
		}), "exports/inventory.csv"),
	},
	{
		event:   "s3-access-point-policy.json",
		buckets: []string{"example-datalake"},
		build: func(ctx context.Context, c Clients) (Adjust, error) {
			err := bucketWithPolicy(ctx, c, "example-datalake", Policy(map[string]any{
				"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": "*", "Action": "*",
				"Resource":  []string{"arn:aws:s3:::example-datalake", "arn:aws:s3:::example-datalake/*"},
				"Condition": map[string]any{"StringEquals": map[string]any{"s3:DataAccessPointAccount": Account}},
			}), "curated/sales/2026-11.parquet")
			if err != nil {
				return nil, err
			}
			_, err = c.Control.CreateAccessPoint(ctx, &s3control.CreateAccessPointInput{AccountId: aws.String(Account), Name: aws.String("partner-read"), Bucket: aws.String("example-datalake"),
				PublicAccessBlockConfiguration: &controltypes.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}})
			if err != nil {
				return nil, fmt.Errorf("create access point partner-read: %w", err)
			}
			ap := "arn:aws:s3:" + Region + ":" + Account + ":accesspoint/partner-read"
			_, err = c.Control.PutAccessPointPolicy(ctx, &s3control.PutAccessPointPolicyInput{AccountId: aws.String(Account), Name: aws.String("partner-read"),
				Policy: aws.String(Policy(map[string]any{
					"Sid": "OtherPartnerOnly", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444455556666:role/Reader"},
					"Action": "s3:GetObject", "Resource": ap + "/object/*",
				}))})
			if err != nil {
				return nil, fmt.Errorf("put access point policy on partner-read: %w", err)
			}
			return nil, nil
		},
	},
	{
		event:   "s3-vpc-endpoint-policy.json",
		buckets: []string{"example-other-team"},
		build: func(ctx context.Context, c Clients) (Adjust, error) {
			if err := CreateBucket(ctx, c.S3, "example-other-team", "shared/config.yaml"); err != nil {
				return nil, err
			}
			vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
			if err != nil {
				return nil, fmt.Errorf("create VPC: %w", err)
			}
			ep, err := c.EC2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: vpc.Vpc.VpcId, ServiceName: aws.String("com.amazonaws." + Region + ".s3"),
				VpcEndpointType: ec2types.VpcEndpointTypeGateway,
				PolicyDocument: aws.String(Policy(map[string]any{
					"Sid": "OnlyTeamBucket", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
					"Resource": []string{"arn:aws:s3:::example-team-bucket", "arn:aws:s3:::example-team-bucket/*"},
				}))})
			if err != nil {
				return nil, fmt.Errorf("create VPC endpoint: %w", err)
			}
			// The server assigns endpoint IDs itself: point the event at the one it made.
			id := aws.ToString(ep.VpcEndpoint.VpcEndpointId)
			return func(rec *cloudtrail.Record) { rec.VPCEndpointID = id }, nil
		},
	},
	{
		event:   "s3-presigned-url-expired.json",
		buckets: []string{"example-downloads"},
		build:   plainBucket("example-downloads", "installers/setup-2.3.exe"),
	},
	{
		// The message names the caller's identity-based policies: the
		// bucket has nothing against the caller.
		event:   "s3-iam-permissions.json",
		buckets: []string{"example-quarterly-reports"},
		build:   plainBucket("example-quarterly-reports", "2026/q3/summary.xlsx"),
	},
	{
		event:   "s3-permissions-boundary.json",
		buckets: []string{"example-release-artifacts"},
		build:   plainBucket("example-release-artifacts"),
	},
	{
		event:   "s3-org-policy-deny.json",
		buckets: []string{"example-backups"},
		build:   plainBucket("example-backups"),
	},
	{
		// Nothing in the bucket denies: the session policy the caller's
		// AssumeRole passed does, which only that call's record shows.
		event:   "s3-session-policy.json",
		buckets: []string{"example-vendor-share"},
		build:   plainBucket("example-vendor-share", "delivery/spec-v2.pdf"),
	},
}
