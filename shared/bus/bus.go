// Package bus puts denyfix's own events on its EventBridge bus: every
// diagnosis, proposal, decision and change, with the finding as detail. The
// bus's archive is the audit trail; remediate and notify react to it.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/denyfix/denyfix/shared/finding"
)

// IAMActions are exactly the EventBridge actions Publisher calls.
var IAMActions = []string{"events:PutEvents"}

// Source is the source of every event denyfix puts on its bus.
const Source = "denyfix"

// DetailType is the kind of a denyfix event. The zero value, DetailNone, is
// no event and is never published.
type DetailType int

// The denyfix event kinds (DESIGN.md "Events on the denyfix bus").
const (
	DetailNone DetailType = iota
	DenialDiagnosed
	FixProposed
	FixApproved
	FixRejected
	FixApplied
	FixFailed
	FixSkipped
	FixRolledBack
)

var detailTypeNames = [...]string{
	DetailNone:      "",
	DenialDiagnosed: "Denial Diagnosed",
	FixProposed:     "Fix Proposed",
	FixApproved:     "Fix Approved",
	FixRejected:     "Fix Rejected",
	FixApplied:      "Fix Applied",
	FixFailed:       "Fix Failed",
	FixSkipped:      "Fix Skipped",
	FixRolledBack:   "Fix Rolled Back",
}

// DetailTypes lists every event kind, DetailNone excluded.
func DetailTypes() []DetailType {
	return []DetailType{DenialDiagnosed, FixProposed, FixApproved, FixRejected, FixApplied, FixFailed, FixSkipped, FixRolledBack}
}

// String returns the EventBridge detail-type, e.g. "Fix Proposed".
func (d DetailType) String() string {
	if d < 0 || int(d) >= len(detailTypeNames) {
		return ""
	}
	return detailTypeNames[d]
}

// Kebab returns the detail-type in kebab case ("fix-proposed"), as sample
// event files and golden files are named.
func (d DetailType) Kebab() string { return strings.ToLower(strings.ReplaceAll(d.String(), " ", "-")) }

// ParseDetailType returns the kind with the given detail-type.
func ParseDetailType(s string) (DetailType, error) {
	for i, n := range detailTypeNames {
		if n == s && i != 0 {
			return DetailType(i), nil
		}
	}
	return DetailNone, fmt.Errorf("unknown denyfix detail-type %q", s)
}

// Detail is the detail of every denyfix event: the finding, and who caused
// this event ("denyfix" for automatic steps, else the operator's ARN).
type Detail struct {
	finding.Finding
	Actor string `json:"actor"`
}

// Event is a denyfix event as an EventBridge rule target receives it.
type Event struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// ErrNotDenyfix is returned by DecodeEvent for events from another source.
var ErrNotDenyfix = errors.New("not a denyfix event")

// DecodeEvent decodes a denyfix bus event as a Lambda target receives it.
func DecodeEvent(raw []byte) (Event, DetailType, Detail, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, DetailNone, Detail{}, fmt.Errorf("decode EventBridge event: %w", err)
	}
	if ev.Source != Source {
		return ev, DetailNone, Detail{}, fmt.Errorf("%w: source %q", ErrNotDenyfix, ev.Source)
	}
	dt, err := ParseDetailType(ev.DetailType)
	if err != nil {
		return ev, DetailNone, Detail{}, err
	}
	var d Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return ev, dt, Detail{}, fmt.Errorf("event %s: decode detail: %w", ev.ID, err)
	}
	if d.Fingerprint == "" {
		return ev, dt, Detail{}, fmt.Errorf("event %s: detail has no fingerprint", ev.ID)
	}
	return ev, dt, d, nil
}

// API is the part of *eventbridge.Client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, params *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher puts denyfix events on one bus.
type Publisher struct {
	api API
	bus string
}

// NewPublisher returns a publisher for the named bus (name or ARN).
func NewPublisher(api API, busName string) *Publisher { return &Publisher{api: api, bus: busName} }

// ErrRejected means EventBridge accepted the call but not the entry; the
// error carries its code. Retrying can help (throttling, internal failures).
var ErrRejected = errors.New("event rejected by EventBridge")

// Publish puts one event about the finding on the bus.
func (p *Publisher) Publish(ctx context.Context, dt DetailType, f finding.Finding, actor string) error {
	if dt == DetailNone {
		return errors.New("publish: no detail-type")
	}
	body, err := json.Marshal(Detail{Finding: f, Actor: actor})
	if err != nil {
		return fmt.Errorf("encode %s detail: %w", dt, err)
	}
	entry := types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(dt.String()),
		Detail:       aws.String(string(body)),
	}
	if r := resourceARN(f); r != "" {
		entry.Resources = []string{r}
	}
	out, err := p.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("put %s event for %s: %w", dt, f.Fingerprint, err)
	}
	if out.FailedEntryCount > 0 {
		var code, msg string
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put %s event for %s: %w: %s %s", dt, f.Fingerprint, ErrRejected, code, msg)
	}
	return nil
}

// resourceARN names the resource in the event's resources list, which
// EventBridge accepts only as ARNs.
func resourceARN(f finding.Finding) string {
	if strings.HasPrefix(f.Resource, "arn:") {
		return f.Resource
	}
	return ""
}
