package scan

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

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

// fakeStore serves objects from a map and counts GetObject calls.
type fakeStore struct {
	objects map[string][]byte
	gets    atomic.Int64
}

func (f *fakeStore) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out := &s3.ListObjectsV2Output{}
	keys := slices.Sorted(maps.Keys(f.objects))
	for _, k := range keys {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(f.objects[k])))})
		}
	}
	return out, nil
}

func (f *fakeStore) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.gets.Add(1)
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(f.objects[aws.ToString(in.Key)]))}, nil
}

// TestRunS3SkipsDaysOutsideWindow: with --since, the log files of earlier
// delivery days are not downloaded (a trail bucket holds years of them);
// a file delivered on the next day still counts its late events.
func TestRunS3SkipsDaysOutsideWindow(t *testing.T) {
	rec := func(at string) string {
		return `{"eventTime":"` + at + `","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"Access Denied","recipientAccountId":"111122223333"}`
	}
	key := func(day string) string {
		return "AWSLogs/o-aa11bb22cc/111122223333/CloudTrail/us-east-1/" + day + "/111122223333_CloudTrail_us-east-1_x.json.gz"
	}
	store := &fakeStore{objects: map[string][]byte{
		key("2025/01/10"): []byte(`{"Records":[` + rec("2025-01-10T10:00:00Z") + `]}`),
		key("2026/11/19"): []byte(`{"Records":[` + rec("2026-11-19T10:00:00Z") + `]}`),
		key("2026/11/20"): []byte(`{"Records":[` + rec("2026-11-19T23:58:00Z") + `,` + rec("2026-11-20T10:00:00Z") + `]}`),
		key("2026/11/21"): []byte(`{"Records":[` + rec("2026-11-21T10:00:00Z") + `]}`),
		key("2026/12/30"): []byte(`{"Records":[` + rec("2026-12-30T10:00:00Z") + `]}`),
	}}
	since := time.Date(2026, 11, 19, 23, 0, 0, 0, time.UTC)
	until := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	r, err := Run(context.Background(), []string{"s3://trail/AWSLogs/"}, Config{S3: store, Since: since, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if r.Denials != 2 || r.Records != 2 {
		t.Errorf("records, denials: got %d, %d; want 2, 2", r.Records, r.Denials)
	}
	if n := store.gets.Load(); n != 3 {
		t.Errorf("objects downloaded: got %d; want 3 (2026-11-19 to 2026-11-21)", n)
	}
}
