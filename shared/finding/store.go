package finding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

// IAMActions are exactly the DynamoDB actions Store calls.
var IAMActions = []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DefaultRetention is how long a finding outlives its last occurrence before
// DynamoDB's TTL removes it (attribute expiresAt).
const DefaultRetention = 90 * 24 * time.Hour

// Store is the findings table.
type Store struct {
	api   API
	table string
	// Thresholds are the counts at which Record asks for a notification.
	Thresholds []int64
	// ProposalTTL is how long a proposal waits for a decision.
	ProposalTTL time.Duration
	// Retention is how long a finding is kept after it was last seen.
	Retention time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewStore returns a store over the named table with the default
// thresholds (1, 10, 100, 1000), proposal TTL (72h) and retention.
func NewStore(api API, table string) *Store {
	return &Store{
		api: api, table: table,
		Thresholds:  []int64{1, 10, 100, 1000},
		ProposalTTL: settings.DefaultProposalTTL,
		Retention:   DefaultRetention,
		Now:         time.Now,
	}
}

// Occurrence is one new sighting of a finding.
type Occurrence struct {
	Key Key
	// EventID is the id of the event reporting the occurrence. A redelivery
	// of the same event (a Lambda retry) is not counted again, and reports
	// the same Notify and Proposed as the first delivery, so events a
	// failed attempt did not publish are published on the retry.
	EventID string
	// Explanation is the explanation JSON to keep as the latest one.
	Explanation json.RawMessage
	// Fix and Mode describe the proposal to open, when there is a fix and
	// the mode is not notify. A proposal is opened only when the finding has
	// none that is still live, so repeats never reopen a decided one.
	Fix  *fix.Proposal
	Mode settings.Mode
}

// Outcome is what Record did.
type Outcome struct {
	Finding Finding
	// Notify reports whether this occurrence's count is a notification
	// threshold (storm control: 1st, 10th, 100th, 1000th...).
	Notify bool
	// Proposed reports whether this occurrence opened a new proposal.
	Proposed bool
	// Replayed reports a redelivered event: nothing was counted.
	Replayed bool
}

// Record counts one occurrence of a finding and, when asked, opens its
// proposal. A redelivery of the finding's last event is not counted again
// (its outcome is replayed, so the bus events a failed attempt owed are
// still sent), and the proposal itself is opened at most once.
func (s *Store) Record(ctx context.Context, o Occurrence) (Outcome, error) {
	fp := o.Key.Fingerprint()
	now := s.Now().UTC()
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(fp),
		UpdateExpression: aws.String("SET #acc = :acc, #pr = :pr, #act = :act, #res = :res, #cause = :cause, " +
			"#first = if_not_exists(#first, :now), #last = :now, #exp = :exp, #ttl = :ttl ADD #count :one, #ver :one"),
		ExpressionAttributeNames: map[string]string{
			"#acc": "account", "#pr": "principal", "#act": "action", "#res": "resource", "#cause": "cause",
			"#first": "firstSeen", "#last": "lastSeen", "#exp": "explanation", "#ttl": "expiresAt",
			"#count": "count", "#ver": "version",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":acc":   str(o.Key.Account),
			":pr":    str(o.Key.Principal),
			":act":   str(o.Key.Action),
			":res":   str(o.Key.Resource),
			":cause": str(o.Key.Cause.String()),
			":now":   str(now.Format(time.RFC3339Nano)),
			":exp":   str(string(orNull(o.Explanation))),
			":ttl":   num(now.Add(s.Retention).Unix()),
			":one":   num(1),
		},
		ReturnValues: types.ReturnValueAllNew,
	}
	if o.EventID != "" {
		in.UpdateExpression = aws.String("SET #leid = :eid, " + strings.TrimPrefix(aws.ToString(in.UpdateExpression), "SET "))
		in.ExpressionAttributeNames["#leid"] = "lastEventId"
		in.ExpressionAttributeValues[":eid"] = str(o.EventID)
		in.ConditionExpression = aws.String("attribute_not_exists(#leid) OR #leid <> :eid")
	}
	var f Finding
	replayed := false
	out, err := s.api.UpdateItem(ctx, in)
	switch {
	case isConditionFailed(err):
		if f, err = s.Get(ctx, fp); err != nil {
			return Outcome{}, err
		}
		replayed = true
	case err != nil:
		return Outcome{}, fmt.Errorf("record finding %s: %w", fp, err)
	default:
		if f, err = decode(out.Attributes); err != nil {
			return Outcome{}, err
		}
	}
	res := Outcome{Finding: f, Notify: slices.Contains(s.Thresholds, f.Count), Replayed: replayed}
	if replayed && f.Proposal != nil && f.Proposal.EventID == o.EventID && f.Proposal.State == StateProposed {
		res.Proposed = true
		return res, nil
	}
	if o.Fix == nil || o.Fix.Kind == fix.KindNone || o.Mode == settings.ModeNotify {
		return res, nil
	}
	if f.Proposal != nil && !s.reopenable(f.Proposal, now) {
		return res, nil
	}
	p := Proposal{Fix: *o.Fix, Mode: o.Mode, State: StateProposed, Deadline: now.Add(s.ProposalTTL), Actor: "denyfix", UpdatedAt: now, EventID: o.EventID}
	av, err := encodeProposal(p)
	if err != nil {
		return Outcome{}, err
	}
	out, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(fp),
		UpdateExpression: aws.String("SET #p = :p ADD #ver :one"),
		// Open only where no live proposal exists; two diagnoses racing
		// on the same finding open one proposal between them.
		ConditionExpression:      aws.String("attribute_not_exists(#p) OR #p.#st = :expired OR (#p.#st = :proposed AND #p.#dl < :nowu)"),
		ExpressionAttributeNames: map[string]string{"#p": "proposal", "#st": "state", "#dl": "deadline", "#ver": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": av, ":one": num(1), ":expired": str(StateExpired.String()),
			":proposed": str(StateProposed.String()), ":nowu": num(now.Unix()),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return res, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("open proposal on %s: %w", fp, err)
	}
	if res.Finding, err = decode(out.Attributes); err != nil {
		return Outcome{}, err
	}
	res.Proposed = true
	return res, nil
}

func (s *Store) reopenable(p *Proposal, now time.Time) bool {
	return p.State == StateExpired || (p.State == StateProposed && now.After(p.Deadline))
}

// Get returns the finding with the fingerprint, or ErrNotFound.
func (s *Store) Get(ctx context.Context, fingerprint string) (Finding, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(fingerprint),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Finding{}, fmt.Errorf("get finding %s: %w", fingerprint, err)
	}
	if len(out.Item) == 0 {
		return Finding{}, fmt.Errorf("%w: %s", ErrNotFound, fingerprint)
	}
	return decode(out.Item)
}

// Transition is one move of a proposal between states.
type Transition struct {
	From, To State
	Actor    string
	Reason   string
	// Change, when set, replaces the recorded before/after state.
	Change *fix.Change
	// Error, when set, records why the fix failed or was skipped.
	Error string
}

// Move performs the transition with a conditional write: it succeeds only
// when the proposal is in t.From (and, leaving proposed, before its
// deadline). Otherwise it reports ErrNotFound, ErrExpired or ErrConflict and
// changes nothing. Of two simultaneous identical moves exactly one wins.
func (s *Store) Move(ctx context.Context, fingerprint string, t Transition) (Finding, error) {
	now := s.Now().UTC()
	names := map[string]string{"#p": "proposal", "#st": "state", "#ver": "version", "#actor": "actor", "#reason": "reason", "#up": "updatedAt"}
	values := map[string]types.AttributeValue{
		":from": str(t.From.String()), ":to": str(t.To.String()), ":one": num(1),
		":actor": str(t.Actor), ":reason": str(t.Reason), ":up": str(now.Format(time.RFC3339Nano)),
	}
	set := "SET #p.#st = :to, #p.#actor = :actor, #p.#reason = :reason, #p.#up = :up"
	cond := "#p.#st = :from"
	if t.From == StateProposed && t.To != StateExpired {
		cond += " AND #p.#dl > :nowu"
		names["#dl"] = "deadline"
		values[":nowu"] = num(now.Unix())
	}
	if t.Change != nil {
		b, err := json.Marshal(t.Change)
		if err != nil {
			return Finding{}, fmt.Errorf("encode change: %w", err)
		}
		set += ", #p.#chg = :chg"
		names["#chg"] = "change"
		values[":chg"] = str(string(b))
	}
	if t.Error != "" {
		set += ", #p.#err = :err"
		names["#err"] = "error"
		values[":err"] = str(t.Error)
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(fingerprint),
		UpdateExpression:          aws.String(set + " ADD #ver :one"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return Finding{}, s.whyNot(ctx, fingerprint, t, now)
	}
	if err != nil {
		return Finding{}, fmt.Errorf("move proposal %s %s→%s: %w", fingerprint, t.From, t.To, err)
	}
	return decode(out.Attributes)
}

// whyNot reads the item after a failed condition to say which rule failed.
func (s *Store) whyNot(ctx context.Context, fingerprint string, t Transition, now time.Time) error {
	f, err := s.Get(ctx, fingerprint)
	if err != nil {
		return err
	}
	switch {
	case f.Proposal == nil:
		return fmt.Errorf("%w: finding %s has no proposal", ErrNotFound, fingerprint)
	case f.Proposal.State == t.From && t.From == StateProposed && !now.Before(f.Proposal.Deadline):
		return fmt.Errorf("%w: proposal %s passed its deadline %s", ErrExpired, fingerprint, f.Proposal.Deadline.Format(time.RFC3339))
	default:
		return fmt.Errorf("%w: proposal %s is %s, not %s", ErrConflict, fingerprint, f.Proposal.State, t.From)
	}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func key(fp string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(fp)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
