// Package boot starts a denyfix Lambda function: it reads the settings
// through the getter main passes (os.Getenv), loads the AWS configuration and
// builds the JSON logger, so that each function's main is wiring only.
package boot

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/settings"
)

// Env is what a function's main builds its handler from.
type Env struct {
	Settings settings.Settings
	AWS      aws.Config
	Log      *slog.Logger
}

// Load parses the settings, requires the named variables, loads the default
// AWS configuration and makes the logger at the configured level.
func Load(ctx context.Context, getenv func(string) string, required ...string) (Env, error) {
	s, err := settings.Parse(getenv)
	if err == nil {
		err = s.Require(required...)
	}
	env := Env{Settings: s, Log: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))}
	if err != nil {
		return env, err
	}
	env.AWS, err = config.LoadDefaultConfig(ctx)
	return env, err
}

// MustLoad is Load for main: a function that cannot start logs why and
// exits, which Lambda reports as an initialization error.
func MustLoad(getenv func(string) string, required ...string) Env {
	env, err := Load(context.Background(), getenv, required...)
	if err != nil {
		env.Log.Error("start", "error", err.Error())
		os.Exit(1)
	}
	return env
}

// Store is the findings store on the function's table.
func (e Env) Store() *finding.Store {
	store := finding.NewStore(dynamodb.NewFromConfig(e.AWS), e.Settings.TableName)
	store.Thresholds, store.ProposalTTL = e.Settings.NotifyThresholds, e.Settings.ProposalTTL
	return store
}

// Bus publishes on the denyfix bus.
func (e Env) Bus() *bus.Publisher {
	return bus.NewPublisher(eventbridge.NewFromConfig(e.AWS), e.Settings.EventBusName)
}
