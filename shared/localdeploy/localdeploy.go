// Package localdeploy creates, in a local stand-in for AWS such as a private
// moto server, the resources of denyfix's SAM stack that its handlers talk
// to: the findings table, the denyfix bus with the remediate and notify
// rules, and the SNS topic. Where the stack targets Lambda functions, the
// rules here deliver to SQS queues (moto delivers to SQS targets, and rules
// with Lambda or SNS targets make its PutEvents fail), and the topic has an
// SQS subscription, so whoever runs the handlers reads exactly what
// EventBridge routed and SNS delivered.
package localdeploy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/denyfix/denyfix/shared/finding"
)

// The event patterns of template.yaml's rules on the denyfix bus.
const (
	// RemediatePattern is RemediateRule's: automatic proposals and
	// approved fixes.
	RemediatePattern = `{"source":["denyfix"],"$or":[{"detail-type":["Fix Proposed"],"detail":{"proposal":{"mode":["auto"]}}},{"detail-type":["Fix Approved"]}]}`
	// NotifyPattern is NotifyRule's: every denyfix event.
	NotifyPattern = `{"source":["denyfix"]}`
)

// EventsAPI is the part of *eventbridge.Client Create uses.
type EventsAPI interface {
	CreateEventBus(ctx context.Context, params *eventbridge.CreateEventBusInput, optFns ...func(*eventbridge.Options)) (*eventbridge.CreateEventBusOutput, error)
	PutRule(ctx context.Context, params *eventbridge.PutRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(ctx context.Context, params *eventbridge.PutTargetsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
}

// SQSAPI is the part of *sqs.Client Create and Receive use.
type SQSAPI interface {
	CreateQueue(ctx context.Context, params *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// SNSAPI is the part of *sns.Client Create uses.
type SNSAPI interface {
	CreateTopic(ctx context.Context, params *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	Subscribe(ctx context.Context, params *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
}

// Clients are the clients Create uses.
type Clients struct {
	DynamoDB finding.TableAPI
	Events   EventsAPI
	SQS      SQSAPI
	SNS      SNSAPI
}

// Names names the resources; every field must be set.
type Names struct {
	Table string
	Bus   string
	Topic string
}

// DefaultNames are the names the stack's resources have by default.
var DefaultNames = Names{Table: "denyfix-findings", Bus: "denyfix", Topic: "denyfix-notifications"}

// Deployment is what Create made.
type Deployment struct {
	Table string
	Bus   string
	// RemediateQueueURL receives what RemediateRule routes (the events
	// RemediateFunction is invoked with).
	RemediateQueueURL string
	// NotifyQueueURL receives what NotifyRule routes (every denyfix event,
	// as NotifyFunction is invoked with it).
	NotifyQueueURL string
	TopicARN       string
	// TopicQueueURL is subscribed to the topic: every notification arrives
	// there in SNS's JSON envelope.
	TopicQueueURL string
}

// Create creates the table, the bus with its two rules and their queues,
// and the topic with its subscribed queue.
func Create(ctx context.Context, c Clients, n Names) (Deployment, error) {
	d := Deployment{Table: n.Table, Bus: n.Bus}
	if err := finding.CreateTable(ctx, c.DynamoDB, n.Table); err != nil {
		return d, err
	}
	if _, err := c.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(n.Bus)}); err != nil {
		return d, fmt.Errorf("create event bus %s: %w", n.Bus, err)
	}
	var err error
	if d.RemediateQueueURL, err = ruleToQueue(ctx, c, n.Bus, "remediate", RemediatePattern); err != nil {
		return d, err
	}
	if d.NotifyQueueURL, err = ruleToQueue(ctx, c, n.Bus, "notify", NotifyPattern); err != nil {
		return d, err
	}
	d.TopicARN, d.TopicQueueURL, err = TopicToQueue(ctx, c.SNS, c.SQS, n.Topic)
	return d, err
}

// TopicToQueue creates an SNS topic with an SQS queue subscribed to it, so
// what the topic delivers can be read back (Receive), and returns the topic's
// ARN and the queue's URL.
func TopicToQueue(ctx context.Context, snsAPI SNSAPI, sqsAPI SQSAPI, name string) (topicARN, queueURL string, err error) {
	topic, err := snsAPI.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", name, err)
	}
	topicARN = aws.ToString(topic.TopicArn)
	queueURL, queueARN, err := createQueue(ctx, sqsAPI, name+"-subscription", "sns.amazonaws.com", topicARN)
	if err != nil {
		return "", "", err
	}
	if _, err := snsAPI.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)}); err != nil {
		return "", "", fmt.Errorf("subscribe %s to %s: %w", queueARN, topicARN, err)
	}
	return topicARN, queueURL, nil
}

// ruleToQueue creates a rule on the bus delivering to a new queue named
// after it, and returns the queue's URL.
func ruleToQueue(ctx context.Context, c Clients, bus, name, pattern string) (string, error) {
	rule, err := c.Events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventBusName: aws.String(bus), EventPattern: aws.String(pattern), State: ebtypes.RuleStateEnabled,
	})
	if err != nil {
		return "", fmt.Errorf("create rule %s on %s: %w", name, bus, err)
	}
	url, arn, err := createQueue(ctx, c.SQS, bus+"-"+name, "events.amazonaws.com", aws.ToString(rule.RuleArn))
	if err != nil {
		return "", err
	}
	_, err = c.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(name), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String(name), Arn: aws.String(arn)}},
	})
	if err != nil {
		return "", fmt.Errorf("target rule %s at %s: %w", name, arn, err)
	}
	return url, nil
}

// createQueue creates a queue whose policy lets the service send to it on
// behalf of source only, as a deployed queue target needs, and returns its
// URL and ARN.
func createQueue(ctx context.Context, api SQSAPI, name, service, source string) (url, arn string, err error) {
	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid": "AllowDelivery", "Effect": "Allow", "Principal": map[string]any{"Service": service},
			"Action": "sqs:SendMessage", "Resource": "*",
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": source}},
		}},
	})
	if err != nil {
		return "", "", fmt.Errorf("encode queue policy: %w", err)
	}
	q, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(policy)},
	})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	attrs, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("queue %s ARN: %w", name, err)
	}
	return aws.ToString(q.QueueUrl), attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// Receive takes every message waiting in the queue, deleting each, and
// returns their bodies in the order received. It does not wait for
// messages still on their way: moto delivers before the sending call
// returns.
func Receive(ctx context.Context, api SQSAPI, queueURL string) ([]string, error) {
	var bodies []string
	for {
		out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			return bodies, fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		if len(out.Messages) == 0 {
			return bodies, nil
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return bodies, fmt.Errorf("delete message from %s: %w", queueURL, err)
			}
		}
	}
}
