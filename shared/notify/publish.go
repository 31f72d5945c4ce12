package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// IAMActions are exactly the SNS actions Publisher calls.
var IAMActions = []string{"sns:Publish"}

// API is the part of *sns.Client the publisher uses.
type API interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher sends notifications to one SNS topic.
type Publisher struct {
	api   API
	topic string
}

// NewPublisher returns a publisher for the topic ARN.
func NewPublisher(api API, topicARN string) *Publisher { return &Publisher{api: api, topic: topicARN} }

// Publish sends the notification: the Chatbot JSON to chat (and every
// protocol without its own message), the text to email subscribers, with
// the attributes subscription filter policies match. It returns the SNS
// message id.
func (p *Publisher) Publish(ctx context.Context, n Notification) (string, error) {
	msg, err := json.Marshal(map[string]string{"default": string(n.Chatbot), "email": n.Text})
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	attrs := make(map[string]types.MessageAttributeValue, len(n.Attributes))
	for k, v := range n.Attributes {
		if v == "" { // SNS rejects empty attribute values
			continue
		}
		attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(p.topic),
		Message:           aws.String(string(msg)),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	}
	if s := subject(n.Subject); s != "" {
		in.Subject = aws.String(s)
	}
	out, err := p.api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", p.topic, err)
	}
	return aws.ToString(out.MessageId), nil
}
