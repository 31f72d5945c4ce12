// Command diagnose is the DiagnoseFunction Lambda: it explains every
// CloudTrail denial, probes S3 read-only, records the finding and announces
// it on the denyfix bus. Wiring only; the logic is in packages pipeline and
// diagnosis.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/shared/boot"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/settings"
)

func main() {
	env := boot.MustLoad(os.Getenv, settings.EnvTableName, settings.EnvEventBusName)
	prober := s3probe.New(s3.NewFromConfig(env.AWS), s3control.NewFromConfig(env.AWS), kms.NewFromConfig(env.AWS), ec2.NewFromConfig(env.AWS))
	d := &pipeline.Diagnoser{
		Settings: env.Settings,
		Diagnose: pipeline.Live(&diagnosis.Runner{Prober: prober}),
		Store:    env.Store(),
		Bus:      env.Bus(),
		Log:      env.Log,
	}
	lambda.Start(d.Handle)
}
