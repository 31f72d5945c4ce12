// Command notify is the NotifyFunction Lambda: every denyfix bus event
// becomes an SNS message (Chatbot JSON for chat, text for email, attributes
// for filter policies). Wiring only; the logic is in package pipeline.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/denyfix/denyfix/shared/notify"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/settings"
)

func main() {
	s, err := settings.Parse(os.Getenv)
	if err == nil {
		err = s.Require(settings.EnvTopicARN)
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
	n := &pipeline.NotifyHandler{SNS: notify.NewPublisher(sns.NewFromConfig(cfg), s.TopicARN), Log: log}
	lambda.Start(n.Handle)
}
