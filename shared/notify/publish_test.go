package notify

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/localdeploy"
	"github.com/denyfix/denyfix/shared/mototest"
)

// TestPublishThroughSNS publishes through moto's SNS to an SQS subscriber:
// the chat JSON is the default message and the attributes arrive for
// subscription filter policies.
func TestPublishThroughSNS(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	cfg := srv.Config()
	sn := sns.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	topicARN, queueURL, err := localdeploy.TopicToQueue(ctx, sn, q, "denyfix")
	if err != nil {
		t.Fatal(err)
	}

	n, err := Render(bus.FixApplied, "evt-1", loadDetail(t))
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewPublisher(sn, topicARN).Publish(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Error("Publish returned no message id")
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages; want 1", len(out.Messages))
	}
	var env struct {
		Subject           string
		Message           string
		MessageAttributes map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env); err != nil {
		t.Fatal(err)
	}
	if env.Message != string(n.Chatbot) {
		t.Errorf("delivered message = %s; want the Chatbot JSON", env.Message)
	}
	if env.Subject != n.Subject {
		t.Errorf("subject = %q; want %q", env.Subject, n.Subject)
	}
	for k, v := range n.Attributes {
		if got := env.MessageAttributes[k].Value; got != v {
			t.Errorf("attribute %s = %q; want %q", k, got, v)
		}
	}
}
