package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

// Decision is the body an operator posts to the approve Function URL.
type Decision struct {
	Fingerprint string `json:"fingerprint"`
	// Decision is "approve", "reject" or "rollback".
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
}

// Answer is the JSON body of every approve response.
type Answer struct {
	Fingerprint string `json:"fingerprint,omitempty"`
	State       string `json:"state,omitempty"`
	Error       string `json:"error,omitempty"`
}

// maxReason bounds the reason stored with a decision.
const maxReason = 1000

// Approver decides proposals for operators through the Function URL
// (AuthType AWS_IAM: Lambda has verified the caller's signature, and the
// caller's ARN is in requestContext.authorizer.iam.userArn).
type Approver struct {
	Settings settings.Settings
	Store    Store
	Bus      Bus
	// Fixer restores the saved state on rollback.
	Fixer Fixer
	Log   *slog.Logger
}

// Handle answers one Function URL request.
func (a *Approver) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (resp events.LambdaFunctionURLResponse, err error) {
	line := newLine(a.Log, "approve")
	line.add("requestId", req.RequestContext.RequestID)
	resp = answer(http.StatusInternalServerError, Answer{Error: "internal error"})
	// Errors become HTTP answers: the caller, not Lambda, decides to retry.
	_ = line.run(ctx, func() error {
		resp = a.handle(ctx, req, line)
		return nil
	})
	return resp, nil
}

func (a *Approver) handle(ctx context.Context, req events.LambdaFunctionURLRequest, line *logLine) events.LambdaFunctionURLResponse {
	caller := ""
	if au := req.RequestContext.Authorizer; au != nil && au.IAM != nil {
		caller = au.IAM.UserARN
	}
	line.add("caller", caller)
	if caller == "" || !a.Settings.IsApprover(caller) {
		line.outcome = OutcomeForbidden
		return answer(http.StatusForbidden, Answer{Error: "caller is not an approver"})
	}
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		line.outcome = OutcomeBadRequest
		return answer(http.StatusMethodNotAllowed, Answer{Error: "use POST"})
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			line.outcome, line.err = OutcomeBadRequest, err
			return answer(http.StatusBadRequest, Answer{Error: "body is not valid base64"})
		}
		body = b
	}
	var d Decision
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		line.outcome, line.err = OutcomeBadRequest, err
		return answer(http.StatusBadRequest, Answer{Error: "body must be JSON {\"fingerprint\",\"decision\",\"reason\"}: " + err.Error()})
	}
	line.add("fingerprint", d.Fingerprint)
	line.add("decision", d.Decision)
	if d.Fingerprint == "" || len(d.Fingerprint) > 128 {
		line.outcome = OutcomeBadRequest
		return answer(http.StatusBadRequest, Answer{Error: "fingerprint is required"})
	}
	if len(d.Reason) > maxReason {
		d.Reason = d.Reason[:maxReason]
	}
	switch d.Decision {
	case "approve":
		return a.decide(ctx, d, caller, finding.StateApproved, bus.FixApproved, OutcomeApproved, line)
	case "reject":
		return a.decide(ctx, d, caller, finding.StateRejected, bus.FixRejected, OutcomeRejected, line)
	case "rollback":
		return a.rollback(ctx, d, caller, line)
	}
	line.outcome = OutcomeBadRequest
	return answer(http.StatusBadRequest, Answer{Fingerprint: d.Fingerprint, Error: `decision must be "approve", "reject" or "rollback"`})
}

// decide moves a proposed fix to approved or rejected and announces it.
// Repeating one's own decision is answered 200 again and re-announced, so a
// caller retrying after a failed announcement does not get stuck.
func (a *Approver) decide(ctx context.Context, d Decision, caller string, to finding.State, dt bus.DetailType, oc Outcome, line *logLine) events.LambdaFunctionURLResponse {
	f, err := a.Store.Move(ctx, d.Fingerprint, finding.Transition{From: finding.StateProposed, To: to, Actor: caller, Reason: d.Reason})
	if errors.Is(err, finding.ErrConflict) {
		cur, gerr := a.Store.Get(ctx, d.Fingerprint)
		if gerr == nil && cur.Proposal != nil && cur.Proposal.State == to && cur.Proposal.Actor == caller {
			f, err = cur, nil
		}
	}
	if errors.Is(err, finding.ErrExpired) {
		// Record the expiry so the proposal no longer looks open.
		if _, merr := a.Store.Move(ctx, d.Fingerprint, finding.Transition{From: finding.StateProposed, To: finding.StateExpired, Actor: Actor}); merr != nil && !errors.Is(merr, finding.ErrConflict) {
			line.add("expireError", merr.Error())
		}
	}
	if resp, done := a.moveFailed(d, err, line); done {
		return resp
	}
	if err := a.Bus.Publish(ctx, dt, f, caller); err != nil {
		line.outcome, line.err = OutcomeRetry, err
		return answer(http.StatusServiceUnavailable, Answer{Fingerprint: d.Fingerprint, State: to.String(), Error: "decision recorded but not announced; send it again"})
	}
	line.outcome = oc
	return answer(http.StatusOK, Answer{Fingerprint: d.Fingerprint, State: to.String()})
}

// rollback restores the state saved before an applied fix. The applied →
// rolling_back claim makes two simultaneous rollbacks restore once.
func (a *Approver) rollback(ctx context.Context, d Decision, caller string, line *logLine) events.LambdaFunctionURLResponse {
	f, err := a.Store.Move(ctx, d.Fingerprint, finding.Transition{From: finding.StateApplied, To: finding.StateRollingBack, Actor: caller, Reason: d.Reason})
	if resp, done := a.moveFailed(d, err, line); done {
		return resp
	}
	p := f.Proposal
	if p.Change == nil {
		err = fmt.Errorf("%w: no saved state", fix.ErrRefused)
	} else {
		err = a.Fixer.Rollback(ctx, p.Fix, *p.Change)
	}
	if err != nil {
		// Back to applied, with the reason, so the operator can retry.
		if _, merr := a.Store.Move(ctx, d.Fingerprint, finding.Transition{From: finding.StateRollingBack, To: finding.StateApplied, Actor: caller, Error: "rollback: " + err.Error()}); merr != nil {
			line.add("restoreStateError", merr.Error())
		}
		line.outcome, line.err = OutcomeFailed, err
		status := http.StatusBadGateway
		if errors.Is(err, fix.ErrDrifted) || errors.Is(err, fix.ErrRefused) {
			status = http.StatusConflict
		}
		return answer(status, Answer{Fingerprint: d.Fingerprint, State: finding.StateApplied.String(), Error: err.Error()})
	}
	f, err = a.Store.Move(ctx, d.Fingerprint, finding.Transition{From: finding.StateRollingBack, To: finding.StateRolledBack, Actor: caller, Reason: d.Reason})
	if err != nil {
		line.outcome, line.err = OutcomeRetry, err
		return answer(http.StatusServiceUnavailable, Answer{Fingerprint: d.Fingerprint, Error: "restored, but the record was not updated: " + err.Error()})
	}
	if err := a.Bus.Publish(ctx, bus.FixRolledBack, f, caller); err != nil {
		line.outcome, line.err = OutcomeRetry, err
		return answer(http.StatusServiceUnavailable, Answer{Fingerprint: d.Fingerprint, State: finding.StateRolledBack.String(), Error: "rolled back but not announced"})
	}
	line.outcome = OutcomeRolledBack
	return answer(http.StatusOK, Answer{Fingerprint: d.Fingerprint, State: finding.StateRolledBack.String()})
}

// moveFailed maps a failed transition to its HTTP answer.
func (a *Approver) moveFailed(d Decision, err error, line *logLine) (events.LambdaFunctionURLResponse, bool) {
	if err == nil {
		return events.LambdaFunctionURLResponse{}, false
	}
	line.err = err
	switch {
	case errors.Is(err, finding.ErrNotFound):
		line.outcome = OutcomeNotFound
		return answer(http.StatusNotFound, Answer{Fingerprint: d.Fingerprint, Error: err.Error()}), true
	case errors.Is(err, finding.ErrExpired):
		line.outcome = OutcomeExpired
		return answer(http.StatusConflict, Answer{Fingerprint: d.Fingerprint, State: finding.StateExpired.String(), Error: err.Error()}), true
	case errors.Is(err, finding.ErrConflict):
		line.outcome = OutcomeConflict
		return answer(http.StatusConflict, Answer{Fingerprint: d.Fingerprint, Error: err.Error()}), true
	}
	line.outcome = OutcomeRetry
	return answer(http.StatusServiceUnavailable, Answer{Fingerprint: d.Fingerprint, Error: "temporary failure; send it again"}), true
}

func answer(status int, a Answer) events.LambdaFunctionURLResponse {
	b, _ := json.Marshal(a)
	return events.LambdaFunctionURLResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
