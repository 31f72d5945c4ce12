package scan

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/scan/corpus"
)

// TestRunS3 scans a CloudTrail bucket in moto: the real SDK client lists
// and streams the objects; digest files are skipped and a corrupt object is
// reported by its s3:// name.
func TestRunS3(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	client := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	const bucket = "org-cloudtrail-logs"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	truth, err := corpus.Generate(corpus.Spec{Files: 8, RecordsPerFile: 150, Seed: 3}, func(key string, gz []byte) error {
		put(key, gz)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	put("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T010000Z.json.gz", []byte(`{"awsAccountId":"123456789012"}`))
	bad := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/123456789012_CloudTrail_us-east-1_20261121T0000Z_BAD.json.gz"
	put(bad, []byte{0x1f, 0x8b, 0x08, 0x00})

	r, err := Run(ctx, []string{"s3://" + bucket + "/AWSLogs/"}, Config{S3: client, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, r, truth.Count(time.Time{}, time.Time{}))
	if r.Inputs != 9 {
		t.Errorf("inputs: got %d; want 9 (8 logs and the corrupt one, no digest)", r.Inputs)
	}
	if len(r.Failed) != 1 || r.Failed[0].Name != "s3://"+bucket+"/"+bad {
		t.Errorf("failed: got %v; want only s3://%s/%s", r.Failed, bucket, bad)
	}

	r, err = Run(ctx, []string{"s3://no-such-bucket/AWSLogs/"}, Config{S3: client})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failed) != 1 || r.Failed[0].Name != "s3://no-such-bucket/AWSLogs/" {
		t.Errorf("missing bucket: got failed %v; want the path reported", r.Failed)
	}
}

func TestRunS3WithoutClient(t *testing.T) {
	if _, err := Run(context.Background(), []string{"s3://bucket/prefix"}, Config{}); err == nil {
		t.Error("s3:// without a client: got nil error; want an error")
	}
}
