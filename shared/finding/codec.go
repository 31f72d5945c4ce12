package finding

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/settings"
)

// item is the DynamoDB shape of a finding. Enums are stored by name and
// nested documents (fix, change) as JSON text, so the table stays readable in
// the console and the Go types can grow without a migration.
type item struct {
	PK          string        `dynamodbav:"pk"`
	Account     string        `dynamodbav:"account"`
	Principal   string        `dynamodbav:"principal"`
	Action      string        `dynamodbav:"action"`
	Resource    string        `dynamodbav:"resource"`
	Cause       string        `dynamodbav:"cause"`
	Count       int64         `dynamodbav:"count"`
	FirstSeen   string        `dynamodbav:"firstSeen"`
	LastSeen    string        `dynamodbav:"lastSeen"`
	Explanation string        `dynamodbav:"explanation"`
	Proposal    *proposalItem `dynamodbav:"proposal,omitempty"`
	Version     int64         `dynamodbav:"version"`
	ExpiresAt   int64         `dynamodbav:"expiresAt"`
}

type proposalItem struct {
	Fix       string `dynamodbav:"fix"`
	Mode      string `dynamodbav:"mode"`
	State     string `dynamodbav:"state"`
	Deadline  int64  `dynamodbav:"deadline"`
	Actor     string `dynamodbav:"actor"`
	Reason    string `dynamodbav:"reason"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	Change    string `dynamodbav:"change,omitempty"`
	Error     string `dynamodbav:"error,omitempty"`
	EventID   string `dynamodbav:"eventId,omitempty"`
}

func decode(av map[string]types.AttributeValue) (Finding, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Finding{}, fmt.Errorf("decode finding: %w", err)
	}
	f := Finding{
		Fingerprint: it.PK, Account: it.Account, Principal: it.Principal, Action: it.Action,
		Resource: it.Resource, Count: it.Count, Version: it.Version,
		FirstSeen: parseTime(it.FirstSeen), LastSeen: parseTime(it.LastSeen),
	}
	if it.Cause != "" {
		c, err := denial.ParseCause(it.Cause)
		if err != nil {
			return Finding{}, fmt.Errorf("decode finding %s: %w", it.PK, err)
		}
		f.Cause = c
	}
	if it.Explanation != "" && it.Explanation != "null" {
		f.Explanation = json.RawMessage(it.Explanation)
	}
	if it.Proposal != nil {
		p, err := it.Proposal.decode()
		if err != nil {
			return Finding{}, fmt.Errorf("decode finding %s: %w", it.PK, err)
		}
		f.Proposal = &p
	}
	return f, nil
}

func (pi proposalItem) decode() (Proposal, error) {
	p := Proposal{Actor: pi.Actor, Reason: pi.Reason, Error: pi.Error, EventID: pi.EventID, UpdatedAt: parseTime(pi.UpdatedAt)}
	if pi.Deadline != 0 {
		p.Deadline = time.Unix(pi.Deadline, 0).UTC()
	}
	if err := json.Unmarshal([]byte(pi.Fix), &p.Fix); err != nil {
		return Proposal{}, fmt.Errorf("proposal fix: %w", err)
	}
	if err := p.State.UnmarshalText([]byte(pi.State)); err != nil {
		return Proposal{}, err
	}
	m, err := settings.ParseMode(pi.Mode)
	if err != nil {
		return Proposal{}, err
	}
	p.Mode = m
	if pi.Change != "" {
		if err := json.Unmarshal([]byte(pi.Change), &p.Change); err != nil {
			return Proposal{}, fmt.Errorf("proposal change: %w", err)
		}
	}
	return p, nil
}

func encodeProposal(p Proposal) (types.AttributeValue, error) {
	fx, err := json.Marshal(p.Fix)
	if err != nil {
		return nil, fmt.Errorf("encode fix: %w", err)
	}
	pi := proposalItem{
		Fix: string(fx), Mode: p.Mode.String(), State: p.State.String(), Deadline: p.Deadline.Unix(),
		Actor: p.Actor, Reason: p.Reason, UpdatedAt: p.UpdatedAt.Format(time.RFC3339Nano), Error: p.Error, EventID: p.EventID,
	}
	if p.Change != nil {
		ch, err := json.Marshal(p.Change)
		if err != nil {
			return nil, fmt.Errorf("encode change: %w", err)
		}
		pi.Change = string(ch)
	}
	av, err := attributevalue.Marshal(pi)
	if err != nil {
		return nil, fmt.Errorf("encode proposal: %w", err)
	}
	return av, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
