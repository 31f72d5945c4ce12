package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
)

func busEvent(dt bus.DetailType, fp string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "evt-" + dt.Kebab(), "detail-type": dt.String(), "source": "denyfix",
		"account": "111122223333", "time": "2026-11-21T14:31:09Z", "region": "us-east-1", "resources": []string{},
		"detail": map[string]any{"fingerprint": fp, "cause": "cross_account_object_ownership", "actor": "denyfix"},
	})
	return b
}

func TestRemediator(t *testing.T) {
	tests := []struct {
		name        string
		state       finding.State
		mode        string
		event       json.RawMessage
		applyErr    error
		wantOutcome Outcome
		wantState   finding.State
		wantEvents  []string
		wantApplied int
	}{
		{"auto proposal applied", finding.StateProposed, "auto", busEvent(bus.FixProposed, "fp-1"), nil, OutcomeApplied, finding.StateApplied, []string{"Fix Applied"}, 1},
		{"propose mode waits", finding.StateProposed, "propose", busEvent(bus.FixProposed, "fp-1"), nil, OutcomeAwaiting, finding.StateProposed, nil, 0},
		{"approved applied", finding.StateApproved, "propose", busEvent(bus.FixApproved, "fp-1"), nil, OutcomeApplied, finding.StateApplied, []string{"Fix Applied"}, 1},
		{"precondition skipped", finding.StateApproved, "propose", busEvent(bus.FixApproved, "fp-1"), fix.ErrPrecondition, OutcomeSkipped, finding.StateSkipped, []string{"Fix Skipped"}, 1},
		{"refused skipped", finding.StateApproved, "propose", busEvent(bus.FixApproved, "fp-1"), fix.ErrRefused, OutcomeSkipped, finding.StateSkipped, []string{"Fix Skipped"}, 1},
		{"S3 error failed", finding.StateApproved, "propose", busEvent(bus.FixApproved, "fp-1"), errors.New("InternalError"), OutcomeFailed, finding.StateFailed, []string{"Fix Failed"}, 1},
		{"duplicate delivery after apply", finding.StateApplied, "propose", busEvent(bus.FixApproved, "fp-1"), nil, OutcomeDuplicate, finding.StateApplied, []string{"Fix Applied"}, 0},
		{"someone else applying", finding.StateApplying, "propose", busEvent(bus.FixApproved, "fp-1"), nil, OutcomeDuplicate, finding.StateApplying, nil, 0},
		{"unknown finding", finding.StateApproved, "propose", busEvent(bus.FixApproved, "fp-nope"), nil, OutcomeNotFound, finding.StateApproved, nil, 0},
		{"other event type", finding.StateApproved, "propose", busEvent(bus.FixRejected, "fp-1"), nil, OutcomeIgnoredEvent, finding.StateApproved, nil, 0},
		{"malformed", finding.StateApproved, "propose", json.RawMessage(`{"source":"denyfix","detail-type":"Fix Approved","detail":{}}`), nil, OutcomeDropped, finding.StateApproved, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, b, fx, logs := newMemStore(), &fakeBus{}, &fakeFixer{applyErr: tc.applyErr}, &logSink{}
			store.put(tc.state, tc.mode)
			r := &Remediator{Store: store, Bus: b, Fixer: fx, Log: logs.logger()}
			if err := r.Handle(context.Background(), tc.event); err != nil {
				t.Fatalf("Handle = %v; want nil", err)
			}
			if got := logs.only(t)["outcome"]; got != string(tc.wantOutcome) {
				t.Errorf("outcome = %v; want %s", got, tc.wantOutcome)
			}
			if got := store.findings["fp-1"].Proposal.State; got != tc.wantState {
				t.Errorf("state = %s; want %s", got, tc.wantState)
			}
			if got := b.types(); strings.Join(got, ",") != strings.Join(tc.wantEvents, ",") {
				t.Errorf("published %v; want %v", got, tc.wantEvents)
			}
			if fx.applied != tc.wantApplied {
				t.Errorf("applied %d times; want %d", fx.applied, tc.wantApplied)
			}
		})
	}
}

func TestRemediatorAppliedRecordsChange(t *testing.T) {
	store, b := newMemStore(), &fakeBus{}
	store.put(finding.StateApproved, "propose")
	r := &Remediator{Store: store, Bus: b, Fixer: &fakeFixer{}}
	if err := r.Handle(context.Background(), busEvent(bus.FixApproved, "fp-1")); err != nil {
		t.Fatal(err)
	}
	ch := store.findings["fp-1"].Proposal.Change
	if ch == nil || ch.Before.Ownership != "ObjectWriter" {
		t.Errorf("change = %+v; want the before state kept for rollback", ch)
	}
	if len(b.events) != 1 || b.events[0].f.Proposal.State != finding.StateApplied {
		t.Errorf("published %+v; want one Fix Applied carrying the applied proposal", b.events)
	}
}

func TestRemediatorStoreFailureRetries(t *testing.T) {
	store := newMemStore()
	store.put(finding.StateApproved, "propose")
	store.err = errors.New("ThrottlingException")
	logs := &logSink{}
	r := &Remediator{Store: store, Bus: &fakeBus{}, Fixer: &fakeFixer{}, Log: logs.logger()}
	if err := r.Handle(context.Background(), busEvent(bus.FixApproved, "fp-1")); err == nil {
		t.Fatal("Handle = nil; want an error so Lambda retries")
	}
	if got := logs.only(t)["outcome"]; got != string(OutcomeRetry) {
		t.Errorf("outcome = %v; want retry", got)
	}
}

// The state before a fix must be in the table before S3 is changed: when
// recording the result fails, the retry finds the claim taken and does
// nothing, so a before state kept only in memory would be lost for rollback.
func TestRemediatorSavesBeforeStateBeforeTheChange(t *testing.T) {
	store, fx := newMemStore(), &fakeFixer{}
	store.put(finding.StateApproved, "propose")
	store.moveErr = errors.New("ThrottlingException")
	store.moveErrFrom, store.moveErrTo = finding.StateApplying, finding.StateApplied
	r := &Remediator{Store: store, Bus: &fakeBus{}, Fixer: fx}
	if err := r.Handle(context.Background(), busEvent(bus.FixApproved, "fp-1")); err == nil {
		t.Fatal("Handle = nil; want the failed record returned for a retry")
	}
	if fx.written != 1 {
		t.Fatalf("written %d times; want 1", fx.written)
	}
	ch := store.findings["fp-1"].Proposal.Change
	if ch == nil || ch.Before.Ownership != "ObjectWriter" {
		t.Errorf("stored change = %+v; want the before state saved ahead of the write", ch)
	}
}

// When the before state cannot be saved nothing is written, and the claim
// is released so that a retry can still apply the fix.
func TestRemediatorSaveFailureChangesNothing(t *testing.T) {
	store, fx := newMemStore(), &fakeFixer{}
	store.put(finding.StateApproved, "propose")
	store.moveErr = errors.New("ThrottlingException")
	store.moveErrFrom, store.moveErrTo = finding.StateApplying, finding.StateApplying
	r := &Remediator{Store: store, Bus: &fakeBus{}, Fixer: fx}
	if err := r.Handle(context.Background(), busEvent(bus.FixApproved, "fp-1")); err == nil {
		t.Fatal("Handle = nil; want an error so Lambda retries")
	}
	if fx.written != 0 {
		t.Errorf("written %d times; want 0 when the before state was not saved", fx.written)
	}
	if got := store.findings["fp-1"].Proposal.State; got != finding.StateApproved {
		t.Errorf("state = %s; want approved again (claim released)", got)
	}
}

// TestRemediatorRecordsExpiry: an automatic proposal whose deadline passed
// before remediate ran is marked expired, not left pending, and not applied.
func TestRemediatorRecordsExpiry(t *testing.T) {
	store, b, fx, logs := newMemStore(), &fakeBus{}, &fakeFixer{}, &logSink{}
	store.put(finding.StateProposed, "auto")
	store.moveErr, store.moveErrFrom, store.moveErrTo = finding.ErrExpired, finding.StateProposed, finding.StateApproved
	r := &Remediator{Store: store, Bus: b, Fixer: fx, Log: logs.logger()}
	if err := r.Handle(context.Background(), busEvent(bus.FixProposed, "fp-1")); err != nil {
		t.Fatalf("Handle = %v; want nil", err)
	}
	if got := logs.only(t)["outcome"]; got != string(OutcomeExpired) {
		t.Errorf("outcome = %v; want %s", got, OutcomeExpired)
	}
	if got := store.findings["fp-1"].Proposal.State; got != finding.StateExpired {
		t.Errorf("state = %s; want %s", got, finding.StateExpired)
	}
	if fx.applied != 0 {
		t.Errorf("applied %d times; want 0", fx.applied)
	}
}
