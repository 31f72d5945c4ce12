package mototest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/mototest"
)

func TestServerSpeaksS3(t *testing.T) {
	srv := mototest.Start(t)
	client := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("probe")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	out, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if got, want := len(out.Buckets), 1; got != want {
		t.Fatalf("buckets: got %d; want %d", got, want)
	}
	srv.Reset(t)
	out, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets after reset: %v", err)
	}
	if got := len(out.Buckets); got != 0 {
		t.Fatalf("buckets after reset: got %d; want 0", got)
	}
}
