// Command remediate is the RemediateFunction Lambda: it applies automatic
// and approved proposals from the fix catalogue, verifies them and records
// the before and after state. Wiring only; the logic is in package pipeline.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/pipeline"
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
	r := &pipeline.Remediator{
		Store: store,
		Bus:   bus.NewPublisher(eventbridge.NewFromConfig(cfg), s.EventBusName),
		Fixer: fix.NewApplier(s3.NewFromConfig(cfg), s.BucketAllowed),
		Log:   log,
	}
	lambda.Start(r.Handle)
}
