// Command approve is the ApproveFunction Lambda behind an IAM-authenticated
// Function URL: approvers approve, reject or roll back proposals. Wiring
// only; the logic is in package pipeline.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/boot"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/settings"
)

func main() {
	env := boot.MustLoad(os.Getenv, settings.EnvTableName, settings.EnvEventBusName)
	a := &pipeline.Approver{
		Settings: env.Settings,
		Store:    env.Store(),
		Bus:      env.Bus(),
		Fixer:    fix.NewApplier(s3.NewFromConfig(env.AWS), env.Settings.BucketAllowed),
		Log:      env.Log,
	}
	lambda.Start(a.Handle)
}
