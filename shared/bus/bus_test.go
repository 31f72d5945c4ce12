package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/settings"
)

func sampleFinding() finding.Finding {
	return finding.Finding{
		Fingerprint: "0123456789abcdef0123456789abcdef",
		Account:     "111122223333",
		Principal:   "arn:aws:sts::111122223333:assumed-role/app/i-0abc",
		Action:      "s3:GetObject",
		Resource:    "arn:aws:s3:::shared-data/reports/q3.csv",
		Cause:       denial.CauseCrossAccountObjectOwnership,
		Count:       1,
		Explanation: json.RawMessage(`{"cause":"cross_account_object_ownership","summary":"The object belongs to another account."}`),
		Proposal: &finding.Proposal{
			Fix:   fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Bucket: "shared-data", Summary: "Enforce bucket owner."},
			Mode:  settings.ModeAuto,
			State: finding.StateProposed,
		},
		Version: 2,
	}
}

// TestPublishReachesRuleTarget publishes every detail-type through moto and
// reads them back from an SQS queue targeted by a rule on source "denyfix".
func TestPublishReachesRuleTarget(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	cfg := srv.Config()
	eb := eventbridge.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)

	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("denyfix")}); err != nil {
		t.Fatal(err)
	}
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bus-target")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qo.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("all-denyfix"), EventBusName: aws.String("denyfix"),
		EventPattern: aws.String(`{"source":["denyfix"]}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("all-denyfix"), EventBusName: aws.String("denyfix"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(qa.Attributes["QueueArn"])}},
	}); err != nil {
		t.Fatal(err)
	}

	p := bus.NewPublisher(eb, "denyfix")
	want := map[string]bool{}
	for _, dt := range bus.DetailTypes() {
		if err := p.Publish(ctx, dt, sampleFinding(), "denyfix"); err != nil {
			t.Fatalf("Publish(%s) = %v", dt, err)
		}
		want[dt.String()] = true
	}

	got := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qo.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			_, dt, d, err := bus.DecodeEvent([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("DecodeEvent(%s) = %v", aws.ToString(m.Body), err)
			}
			got[dt.String()] = true
			if d.Fingerprint != sampleFinding().Fingerprint || d.Actor != "denyfix" || d.Proposal == nil || d.Proposal.Mode != settings.ModeAuto {
				t.Errorf("detail = %+v; want the published finding, actor and proposal mode", d)
			}
		}
	}
	for dt := range want {
		if !got[dt] {
			t.Errorf("event %q never reached the queue", dt)
		}
	}
}

type failingAPI struct{}

func (failingAPI) PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return &eventbridge.PutEventsOutput{
		FailedEntryCount: 1,
		Entries:          []ebtypes.PutEventsResultEntry{{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("Rate exceeded")}},
	}, nil
}

func TestPublishFailedEntryIsError(t *testing.T) {
	err := bus.NewPublisher(failingAPI{}, "denyfix").Publish(context.Background(), bus.FixApplied, sampleFinding(), "denyfix")
	if !errors.Is(err, bus.ErrRejected) {
		t.Fatalf("Publish = %v; want ErrRejected", err)
	}
}

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr bool
	}{
		{"valid", `{"id":"1","source":"denyfix","detail-type":"Fix Approved","detail":{"fingerprint":"ab","cause":"kms","actor":"x"}}`, false},
		{"other source", `{"id":"1","source":"aws.s3","detail-type":"Fix Approved","detail":{"fingerprint":"ab"}}`, true},
		{"unknown detail-type", `{"id":"1","source":"denyfix","detail-type":"Fix Maybe","detail":{"fingerprint":"ab"}}`, true},
		{"no fingerprint", `{"id":"1","source":"denyfix","detail-type":"Fix Approved","detail":{}}`, true},
		{"bad cause", `{"id":"1","source":"denyfix","detail-type":"Fix Approved","detail":{"fingerprint":"ab","cause":"nope"}}`, true},
		{"not json", `{`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := bus.DecodeEvent([]byte(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Errorf("DecodeEvent err = %v; want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestDetailTypeNames(t *testing.T) {
	for _, dt := range bus.DetailTypes() {
		got, err := bus.ParseDetailType(dt.String())
		if err != nil || got != dt {
			t.Errorf("ParseDetailType(%q) = %v, %v; want %v", dt.String(), got, err, dt)
		}
	}
	if got := bus.FixRolledBack.Kebab(); got != "fix-rolled-back" {
		t.Errorf("Kebab = %q; want fix-rolled-back", got)
	}
}
