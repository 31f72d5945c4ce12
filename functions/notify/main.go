// Command notify is the NotifyFunction Lambda: it publishes every denyfix
// bus event to the SNS topic, as AWS Chatbot JSON for Slack and text for
// email. Wiring only; the logic is in packages pipeline and notify.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/denyfix/denyfix/shared/boot"
	"github.com/denyfix/denyfix/shared/notify"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/settings"
)

func main() {
	env := boot.MustLoad(os.Getenv, settings.EnvTopicARN)
	n := &pipeline.NotifyHandler{SNS: notify.NewPublisher(sns.NewFromConfig(env.AWS), env.Settings.TopicARN), Log: env.Log}
	lambda.Start(n.Handle)
}
