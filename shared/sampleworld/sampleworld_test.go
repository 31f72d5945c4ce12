package sampleworld_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/events"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/sampleworld"
)

// TestBuildEveryWorldInOneServer builds all worlds side by side, as the
// demo does, and reads back the bucket of each.
func TestBuildEveryWorldInOneServer(t *testing.T) {
	srv := mototest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	c := sampleworld.Clients{
		S3:      s3c,
		Control: s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.EndpointResolverV2 = s3probe.StaticControlEndpoint{URL: srv.URL} }),
		KMS:     kms.NewFromConfig(cfg),
		EC2:     ec2.NewFromConfig(cfg),
	}
	for _, ev := range sampleworld.Events() {
		adjust, err := sampleworld.Build(ctx, c, ev)
		if err != nil {
			t.Fatalf("Build(%s): got %v; want nil", ev, err)
		}
		var rec cloudtrail.Record
		adjust(&rec) // never nil
	}
	for _, b := range sampleworld.Buckets() {
		if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Errorf("HeadBucket(%s): got %v; want nil", b, err)
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		event string
		want  error
	}{
		{"s3-requester-pays.json", sampleworld.ErrNoWorld},
		{"denial-ec2-runinstances-scp.json", sampleworld.ErrNoWorld},
		{"no-such-sample.json", sampleworld.ErrNoWorld},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			_, err := sampleworld.Build(context.Background(), sampleworld.Clients{}, tt.event)
			if !errors.Is(err, tt.want) {
				t.Errorf("Build: got %v; want %v", err, tt.want)
			}
		})
	}
}

// TestEveryWorldHasItsSample: each world is named after a sample event
// that exists.
func TestEveryWorldHasItsSample(t *testing.T) {
	samples, err := fs.Glob(events.FS, "s3-*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sampleworld.Events() {
		if !slices.Contains(samples, ev) {
			t.Errorf("world %s: got no such sample in events/; want one", ev)
		}
	}
}
