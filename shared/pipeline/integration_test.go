package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
)

// TestAutoFixAndRollbackAgainstMoto runs diagnose → remediate → rollback
// with the real store, bus publisher and fix applier against moto: the
// automatic ownership fix is applied once, recorded, and rolled back.
func TestAutoFixAndRollbackAgainstMoto(t *testing.T) {
	srv := mototest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	if err := finding.CreateTable(ctx, db, "findings"); err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("denyfix")}); err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const bucket = "amzn-s3-demo-bucket"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}},
	}); err != nil {
		t.Fatal(err)
	}
	ownership := func() types.ObjectOwnership {
		out, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		return out.OwnershipControls.Rules[0].ObjectOwnership
	}

	set := testSettings(t, map[string]string{"MODE_S3_ENFORCE_BUCKET_OWNER": "auto", "APPROVER_ARNS": approverARN})
	store := finding.NewStore(db, "findings")
	pub := bus.NewPublisher(eb, "denyfix")
	applier := fix.NewApplier(s3c, set.BucketAllowed)

	// Diagnose: an S3 denial with an ownership fix on an allowlisted bucket.
	logs := &logSink{}
	d := &Diagnoser{Settings: set, Store: store, Bus: pub, Log: logs.logger(), Diagnose: withFix(bucket)}
	if err := d.Handle(ctx, readTestdata(t, "denial-kms-decrypt-key-policy.json")); err != nil {
		t.Fatal(err)
	}
	line := logs.only(t)
	if line["outcome"] != string(OutcomeProposed) || line["mode"] != "auto" {
		t.Fatalf("diagnose logged %v; want proposed in auto mode", line)
	}
	fp, _ := line["fingerprint"].(string)

	// Remediate: the automatic proposal is approved, applied and verified;
	// a second delivery applies nothing.
	r := &Remediator{Store: store, Bus: pub, Fixer: applier}
	for range 2 {
		if err := r.Handle(ctx, busEvent(bus.FixProposed, fp)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := store.Get(ctx, fp)
	if err != nil {
		t.Fatal(err)
	}
	if f.Proposal.State != finding.StateApplied || f.Proposal.Change == nil || f.Proposal.Change.Before.Ownership != "ObjectWriter" {
		t.Fatalf("proposal = %+v; want applied with ObjectWriter saved", f.Proposal)
	}
	if got := ownership(); got != types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership = %s; want BucketOwnerEnforced", got)
	}

	// Approve: an approver rolls it back.
	a := &Approver{Settings: set, Store: store, Bus: pub, Fixer: applier}
	resp, err := a.Handle(ctx, urlRequest(approverARN, `{"fingerprint":"`+fp+`","decision":"rollback","reason":"partner feed broke"}`))
	if err != nil {
		t.Fatal(err)
	}
	var ans Answer
	_ = json.Unmarshal([]byte(resp.Body), &ans)
	if resp.StatusCode != 200 || ans.State != "rolled_back" {
		t.Fatalf("rollback answer = %d %s; want 200 rolled_back", resp.StatusCode, resp.Body)
	}
	if got := ownership(); got != types.ObjectOwnershipObjectWriter {
		t.Errorf("ownership after rollback = %s; want ObjectWriter", got)
	}
}
