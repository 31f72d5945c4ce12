package localdeploy_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"gopkg.in/yaml.v3"

	"github.com/denyfix/denyfix/shared/localdeploy"
	"github.com/denyfix/denyfix/shared/mototest"
)

// TestPatternsAreTemplates: the rules here route as template.yaml's do.
func TestPatternsAreTemplates(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				EventPattern yaml.Node `yaml:"EventPattern"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule, pattern string
	}{
		{"RemediateRule", localdeploy.RemediatePattern},
		{"NotifyRule", localdeploy.NotifyPattern},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var fromTemplate, here any
			node := tpl.Resources[tt.rule].Properties.EventPattern
			if err := node.Decode(&fromTemplate); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.pattern), &here); err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(fromTemplate)
			b, _ := json.Marshal(here)
			if string(a) != string(b) {
				t.Errorf("pattern: got %s; want template.yaml's %s", b, a)
			}
		})
	}
}

// TestCreateRoutes puts denyfix events on the bus and a message on the
// topic, and checks which queue receives what.
func TestCreateRoutes(t *testing.T) {
	srv := mototest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb, q, topic := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	d, err := localdeploy.Create(ctx, localdeploy.Clients{DynamoDB: dynamodb.NewFromConfig(cfg), Events: eb, SQS: q, SNS: topic}, localdeploy.DefaultNames)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		detailType, mode string
		remediate        bool
	}{
		{"Fix Proposed", "auto", true},
		{"Fix Proposed", "propose", false},
		{"Fix Approved", "propose", true},
		{"Denial Diagnosed", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.detailType+" "+tt.mode, func(t *testing.T) {
			detail, _ := json.Marshal(map[string]any{"fingerprint": "f1", "proposal": map[string]any{"mode": tt.mode}})
			out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				EventBusName: aws.String(d.Bus), Source: aws.String("denyfix"), DetailType: aws.String(tt.detailType), Detail: aws.String(string(detail)),
			}}})
			if err != nil || out.FailedEntryCount != 0 {
				t.Fatalf("PutEvents: %v %+v", err, out)
			}
			rem, err := localdeploy.Receive(ctx, q, d.RemediateQueueURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rem) == 1; got != tt.remediate {
				t.Errorf("remediate queue: got %d events; want delivered=%v", len(rem), tt.remediate)
			}
			not, err := localdeploy.Receive(ctx, q, d.NotifyQueueURL)
			if err != nil {
				t.Fatal(err)
			}
			if len(not) != 1 {
				t.Errorf("notify queue: got %d events; want 1", len(not))
			}
		})
	}

	if _, err := topic.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(d.TopicARN), Message: aws.String("hello"), Subject: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	got, err := localdeploy.Receive(ctx, q, d.TopicQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, b := range got {
		var env struct{ Message string }
		_ = json.Unmarshal([]byte(b), &env)
		msgs = append(msgs, env.Message)
	}
	if want := []string{"hello"}; !slices.Equal(msgs, want) {
		t.Errorf("subscription queue: got %v; want %v", msgs, want)
	}
}
