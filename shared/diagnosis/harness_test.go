package diagnosis_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/sampleworld"
)

// loadEvent reads one sample event of events/ the way the command does.
func loadEvent(tb testing.TB, name string) cloudtrail.Record {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := cloudtrail.NewReader(f)
	rec, err := r.Next()
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		tb.Fatalf("%s: want exactly one record; second read: %v", name, err)
	}
	return rec
}

// clients are real SDK clients pointed at one endpoint.
type clients struct {
	s3  *s3.Client
	ctl *s3control.Client
	kms *kms.Client
	ec2 *ec2.Client
}

// newClients builds every client from cfg; retries are off so throttling
// and denials reach the checks at once, as they would after the SDK's
// retries are spent.
func newClients(cfg aws.Config, endpoint string) clients {
	cfg.RetryMaxAttempts = 1
	return clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ctl: s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.EndpointResolverV2 = s3probe.StaticControlEndpoint{URL: endpoint} }),
		kms: kms.NewFromConfig(cfg),
		ec2: ec2.NewFromConfig(cfg),
	}
}

// world returns the clients sampleworld builds with.
func (c clients) world() sampleworld.Clients {
	return sampleworld.Clients{S3: c.s3, Control: c.ctl, KMS: c.kms, EC2: c.ec2}
}

func (c clients) runner() *diagnosis.Runner {
	return &diagnosis.Runner{Prober: s3probe.New(c.s3, c.ctl, c.kms, c.ec2), Deadline: 30 * time.Second}
}

// slowTransport adds latency to every AWS call and counts them, standing in
// for the round trip to a real region.
type slowTransport struct {
	base  http.RoundTripper
	delay time.Duration
	calls atomic.Int64
}

func (s *slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls.Add(1)
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return s.base.RoundTrip(r)
}

func mustDo(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

var ctx = context.Background()
