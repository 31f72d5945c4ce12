// Command remediate is the RemediateFunction Lambda: on an automatic "Fix
// Proposed" or a "Fix Approved" it re-checks, applies, verifies and records
// one catalogue fix, at most once. Wiring only; the logic is in packages
// pipeline and fix.
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
	r := &pipeline.Remediator{
		Store: env.Store(),
		Bus:   env.Bus(),
		Fixer: fix.NewApplier(s3.NewFromConfig(env.AWS), env.Settings.BucketAllowed),
		Log:   env.Log,
	}
	lambda.Start(r.Handle)
}
