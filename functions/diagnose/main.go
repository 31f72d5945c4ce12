// Command diagnose is the DiagnoseFunction Lambda: it explains every
// CloudTrail denial, probes S3 read-only, records the finding and announces
// it on the denyfix bus. Wiring only; the logic is in packages pipeline and
// diagnosis.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/settings"
)

func main() {
	s, err := settings.Parse(os.Getenv)
	if err == nil {
		err = s.Require(settings.EnvTableName, settings.EnvEventBusName)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))
	ctx := context.Background()
	cfg, cerr := config.LoadDefaultConfig(ctx)
	if err == nil {
		err = cerr
	}
	if err != nil {
		log.Error("start", "error", err.Error())
		os.Exit(1)
	}
	store := finding.NewStore(dynamodb.NewFromConfig(cfg), s.TableName)
	store.Thresholds, store.ProposalTTL = s.NotifyThresholds, s.ProposalTTL
	runner := &diagnosis.Runner{Prober: s3probe.New(s3.NewFromConfig(cfg), s3control.NewFromConfig(cfg), kms.NewFromConfig(cfg), ec2.NewFromConfig(cfg))}
	d := &pipeline.Diagnoser{
		Settings: s,
		Store:    store,
		Bus:      bus.NewPublisher(eventbridge.NewFromConfig(cfg), s.EventBusName),
		Log:      log,
		Diagnose: func(ctx context.Context, rec cloudtrail.Record) (pipeline.Diagnosis, error) {
			dg, ok := runner.Diagnose(ctx, rec)
			if !ok { // a denial code the explainer cannot read is still recorded
				return pipeline.ExplainOnly(ctx, rec)
			}
			doc, err := json.Marshal(dg)
			return pipeline.Diagnosis{Explanation: dg.Explanation, Document: doc, Fix: dg.Fix}, err
		},
	}
	lambda.Start(d.Handle)
}
