package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

// Remediator applies proposals: automatic ones on "Fix Proposed", the others
// on "Fix Approved".
type Remediator struct {
	Store Store
	Bus   Bus
	Fixer Fixer
	Log   *slog.Logger
}

// Handle handles one denyfix bus event.
func (r *Remediator) Handle(ctx context.Context, raw json.RawMessage) error {
	line := newLine(r.Log, "remediate")
	return line.run(ctx, func() error { return r.handle(ctx, raw, line) })
}

func (r *Remediator) handle(ctx context.Context, raw json.RawMessage, line *logLine) error {
	ev, dt, d, err := bus.DecodeEvent(raw)
	line.add("eventId", ev.ID)
	line.add("detailType", ev.DetailType)
	if err != nil {
		line.outcome, line.err = OutcomeDropped, err
		return nil
	}
	fp := d.Fingerprint
	line.add("fingerprint", fp)
	line.add("cause", d.Cause.String())

	// The stored proposal is the authority; the event only says which one.
	f, err := r.Store.Get(ctx, fp)
	if errors.Is(err, finding.ErrNotFound) {
		line.outcome, line.err = OutcomeNotFound, err
		return nil
	}
	if err != nil {
		return err
	}
	if f.Proposal == nil {
		line.outcome = OutcomeIgnoredEvent
		return nil
	}
	line.add("fix", f.Proposal.Fix.Kind.String())

	switch dt {
	case bus.FixProposed:
		if f.Proposal.Mode != settings.ModeAuto || !f.Proposal.Fix.Kind.AutoAllowed() {
			line.outcome = OutcomeAwaiting
			return nil
		}
		_, err := r.Store.Move(ctx, fp, finding.Transition{From: finding.StateProposed, To: finding.StateApproved, Actor: Actor, Reason: "automatic mode"})
		switch {
		case errors.Is(err, finding.ErrExpired):
			// Record it, so the proposal no longer reads as pending; a
			// concurrent delivery may have done so already.
			line.outcome, line.err = OutcomeExpired, err
			_, err = r.Store.Move(ctx, fp, finding.Transition{From: finding.StateProposed, To: finding.StateExpired, Actor: Actor, Reason: "deadline passed before it was applied"})
			if err != nil && !errors.Is(err, finding.ErrConflict) {
				return err
			}
			return nil
		case errors.Is(err, finding.ErrConflict):
			// Approved by an earlier delivery of this event: go on to the
			// claim, which decides who applies.
		case err != nil:
			return err
		}
	case bus.FixApproved:
	default:
		line.outcome = OutcomeIgnoredEvent
		return nil
	}
	return r.apply(ctx, fp, line)
}

// apply claims the approved proposal (approved → applying, a conditional
// write only one invocation wins), saves the state before the change, applies
// it and records the result.
func (r *Remediator) apply(ctx context.Context, fp string, line *logLine) error {
	f, err := r.Store.Move(ctx, fp, finding.Transition{From: finding.StateApproved, To: finding.StateApplying, Actor: Actor})
	if errors.Is(err, finding.ErrConflict) {
		return r.replay(ctx, fp, line)
	}
	if err != nil {
		return err
	}
	// The before state is stored while the claim is held and before S3 is
	// touched: if the function dies or DynamoDB fails after the write, the
	// state needed for rollback is not lost with the result.
	var saveErr error
	save := func(ctx context.Context, before fix.Change) error {
		_, saveErr = r.Store.Move(ctx, fp, finding.Transition{From: finding.StateApplying, To: finding.StateApplying, Actor: Actor, Change: &before})
		return saveErr
	}
	ch, applyErr := r.Fixer.Apply(ctx, f.Proposal.Fix, save)
	if saveErr != nil {
		// Nothing was changed: release the claim so a retry can apply.
		if _, err := r.Store.Move(ctx, fp, finding.Transition{From: finding.StateApplying, To: finding.StateApproved, Actor: Actor}); err != nil {
			return errors.Join(saveErr, err)
		}
		return saveErr
	}
	t := finding.Transition{From: finding.StateApplying, Actor: Actor, Change: ch}
	var dt bus.DetailType
	switch {
	case applyErr == nil:
		t.To, dt, line.outcome = finding.StateApplied, bus.FixApplied, OutcomeApplied
	case errors.Is(applyErr, fix.ErrRefused), errors.Is(applyErr, fix.ErrPrecondition):
		t.To, dt, line.outcome = finding.StateSkipped, bus.FixSkipped, OutcomeSkipped
		t.Error = applyErr.Error()
	default:
		// A failed S3 call is not retried: the claim is spent, so a fix is
		// attempted at most once. The operator sees why and can act.
		t.To, dt, line.outcome = finding.StateFailed, bus.FixFailed, OutcomeFailed
		t.Error = applyErr.Error()
	}
	line.err = applyErr
	f, err = r.Store.Move(ctx, fp, t)
	if err != nil {
		return err
	}
	return r.Bus.Publish(ctx, dt, f, Actor)
}

// replay handles a proposal someone else already claimed: when it is done,
// its result event is published again (the earlier attempt may have failed
// to publish it; a duplicate announcement is harmless), else nothing happens.
func (r *Remediator) replay(ctx context.Context, fp string, line *logLine) error {
	f, err := r.Store.Get(ctx, fp)
	if err != nil {
		return err
	}
	line.outcome = OutcomeDuplicate
	if f.Proposal == nil {
		return nil
	}
	line.add("state", f.Proposal.State.String())
	var dt bus.DetailType
	switch f.Proposal.State {
	case finding.StateApplied:
		dt = bus.FixApplied
	case finding.StateFailed:
		dt = bus.FixFailed
	case finding.StateSkipped:
		dt = bus.FixSkipped
	default:
		return nil
	}
	return r.Bus.Publish(ctx, dt, f, Actor)
}
