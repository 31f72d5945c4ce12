// Package pipeline is the logic of denyfix's four Lambda functions, kept out
// of their mains so it can be tested without Lambda: diagnose (CloudTrail
// denial → finding → bus), remediate (approved or automatic proposal → fix),
// approve (operator decision through the Function URL) and notify (bus event
// → SNS).
//
// Every handler logs exactly one JSON line per event with its outcome, never
// lets a panic escape, drops malformed events instead of failing them (a
// retry cannot repair a payload), and returns an error only when retrying
// can help: a failed or throttled call to DynamoDB, EventBridge or SNS.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/notify"
)

// Outcome is what a handler did with one event; it is the "outcome" field
// of the handler's log line.
type Outcome string

// The outcomes.
const (
	OutcomeDropped          Outcome = "dropped_malformed"
	OutcomeIgnoredSelf      Outcome = "ignored_denyfix_role"
	OutcomeIgnoredPrincipal Outcome = "ignored_principal"
	OutcomeIgnoredNoDenial  Outcome = "ignored_not_denial"
	OutcomeIgnoredEvent     Outcome = "ignored_event"
	OutcomeRecorded         Outcome = "recorded"
	OutcomeProposed         Outcome = "proposed"
	OutcomeAwaiting         Outcome = "awaiting_approval"
	OutcomeApproved         Outcome = "approved"
	OutcomeRejected         Outcome = "rejected"
	OutcomeApplied          Outcome = "applied"
	OutcomeFailed           Outcome = "failed"
	OutcomeSkipped          Outcome = "skipped"
	OutcomeRolledBack       Outcome = "rolled_back"
	OutcomeDuplicate        Outcome = "duplicate"
	OutcomeExpired          Outcome = "expired"
	OutcomeConflict         Outcome = "conflict"
	OutcomeNotFound         Outcome = "not_found"
	OutcomeForbidden        Outcome = "forbidden"
	OutcomeBadRequest       Outcome = "bad_request"
	OutcomeNotified         Outcome = "notified"
	OutcomeRetry            Outcome = "retry"
	OutcomeInternal         Outcome = "internal_error"
)

// Store is the part of *finding.Store the handlers use.
type Store interface {
	Record(ctx context.Context, o finding.Occurrence) (finding.Outcome, error)
	Get(ctx context.Context, fingerprint string) (finding.Finding, error)
	Move(ctx context.Context, fingerprint string, t finding.Transition) (finding.Finding, error)
}

// Bus is the part of *bus.Publisher the handlers use.
type Bus interface {
	Publish(ctx context.Context, dt bus.DetailType, f finding.Finding, actor string) error
}

// Fixer is the part of *fix.Applier the handlers use.
type Fixer interface {
	Apply(ctx context.Context, p fix.Proposal, save fix.SaveFunc) (*fix.Change, error)
	Rollback(ctx context.Context, p fix.Proposal, ch fix.Change) error
}

// Notifier is the part of *notify.Publisher the notify handler uses.
type Notifier interface {
	Publish(ctx context.Context, n notify.Notification) (string, error)
}

// Actor is the actor of denyfix's own automatic steps.
const Actor = "denyfix"

// logLine collects the fields of one event's log line.
type logLine struct {
	log     *slog.Logger
	msg     string
	attrs   []slog.Attr
	outcome Outcome
	err     error
}

func newLine(log *slog.Logger, msg string) *logLine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &logLine{log: log, msg: msg}
}

func (l *logLine) add(key string, v any) { l.attrs = append(l.attrs, slog.Any(key, v)) }

// emit writes the line: info for normal outcomes, warn for drops and
// refusals, error when the event will be retried or was lost to a bug.
func (l *logLine) emit(ctx context.Context) {
	level := slog.LevelInfo
	switch l.outcome {
	case OutcomeDropped, OutcomeFailed, OutcomeForbidden, OutcomeBadRequest:
		level = slog.LevelWarn
	case OutcomeRetry, OutcomeInternal:
		level = slog.LevelError
	}
	attrs := append([]slog.Attr{slog.String("outcome", string(l.outcome))}, l.attrs...)
	if l.err != nil {
		attrs = append(attrs, slog.String("error", l.err.Error()))
	}
	l.log.LogAttrs(ctx, level, l.msg, attrs...)
}

// run calls fn, logs the event's line once, and turns a panic into an
// internal-error outcome: a bug must never crash the runtime nor make Lambda
// retry the same event for nothing.
func (l *logLine) run(ctx context.Context, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			l.outcome = OutcomeInternal
			l.err = fmt.Errorf("panic: %v", r)
			l.add("stack", string(debug.Stack()))
			err = nil
		}
		if err != nil {
			l.outcome = OutcomeRetry
			l.err = err
		}
		l.emit(ctx)
	}()
	return fn()
}
