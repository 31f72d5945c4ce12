package scan

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectStore is the part of the S3 API a scan uses; *s3.Client satisfies
// it. Objects are listed page by page and each is streamed by a worker
// while the listing goes on.
type ObjectStore interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// IAMActions are the IAM actions a scan of s3:// paths calls.
var IAMActions = []string{"s3:ListBucket", "s3:GetObject"}

// parseS3 splits s3://bucket/prefix.
func parseS3(p string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(p, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%s: not an s3:// path", p)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s: no bucket name", p)
	}
	return bucket, prefix, nil
}

// listS3 emits every log object under prefix. CloudTrail's layout is
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz; digest
// files (CloudTrail-Digest/) hold no events and are skipped, and so are the
// days that cannot hold an event of the window [since, until).
func listS3(ctx context.Context, store ObjectStore, bucket, prefix string, since, until time.Time, emit func(input) bool) error {
	pages := s3.NewListObjectsV2Paginator(store, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if strings.HasSuffix(key, "/") || strings.Contains(key, "/CloudTrail-Digest/") || outsideWindow(key, since, until) {
				continue
			}
			if !emit(input{
				name: "s3://" + bucket + "/" + key,
				size: aws.ToInt64(obj.Size),
				open: func(ctx context.Context) (io.ReadCloser, error) {
					out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
					if err != nil {
						return nil, fmt.Errorf("get object: %w", err)
					}
					return out.Body, nil
				},
			}) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// deliveryDay is the UTC day in a key or path of CloudTrail's layout
// (.../CloudTrail/<region>/YYYY/MM/DD/...); ok is false for other names.
func deliveryDay(key string) (day time.Time, ok bool) {
	_, rest, found := strings.Cut(key, "/CloudTrail/")
	if !found {
		return time.Time{}, false
	}
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 5 {
		return time.Time{}, false
	}
	day, err := time.Parse("2006/01/02", parts[1]+"/"+parts[2]+"/"+parts[3])
	return day, err == nil
}

// outsideWindow reports whether the log file named key cannot hold an event
// of [since, until). CloudTrail files a log under the UTC day it delivers
// it, minutes (rarely hours) after its events: no event is later than the
// end of that day (an hour of clock skew allowed), and events more than two
// days older than the delivery are not expected.
func outsideWindow(key string, since, until time.Time) bool {
	day, ok := deliveryDay(key)
	if !ok {
		return false
	}
	if !since.IsZero() && !day.Add(25*time.Hour).After(since) {
		return true
	}
	return !until.IsZero() && day.After(until.Add(48*time.Hour))
}
