package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

// Diagnosis is what diagnosing one denial produced.
type Diagnosis struct {
	Explanation denial.Explanation
	// Document is the JSON kept with the finding and sent on the bus: the
	// explanation, plus evidence and fix when live probes ran.
	Document json.RawMessage
	// Fix is the proposed fix, or nil.
	Fix *fix.Proposal
}

// DiagnoseFunc diagnoses one CloudTrail denial. An error means a retry may
// help; checks that merely could not run belong in the evidence.
type DiagnoseFunc func(ctx context.Context, rec cloudtrail.Record) (Diagnosis, error)

// ExplainOnly diagnoses from the record alone (denial.Explain), without live
// probes, and so never proposes a fix. A denial code the explainer does not
// read still becomes a finding with cause unknown: a denial is never lost.
func ExplainOnly(_ context.Context, rec cloudtrail.Record) (Diagnosis, error) {
	exp, ok := denial.Explain(rec)
	if !ok {
		exp = minimalExplanation(rec)
	}
	doc, err := json.Marshal(exp)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("encode explanation: %w", err)
	}
	return Diagnosis{Explanation: exp, Document: doc}, nil
}

// minimalExplanation states what the record itself says. It is built
// through the Explanation's JSON form, the documented contract, so it holds
// whatever Go types the fields have.
func minimalExplanation(rec cloudtrail.Record) denial.Explanation {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	doc := map[string]any{
		"errorCode": opt(rec.ErrorCode), "errorMessage": rec.ErrorMessage,
		"eventId": opt(rec.EventID), "eventTime": opt(rec.EventTime), "account": opt(rec.Account()),
		"region": opt(rec.AWSRegion), "service": opt(rec.Service()), "eventName": opt(rec.EventName),
		"principal": opt(rec.PrincipalARN()), "action": opt(actionOf(rec)),
		"summary":   fmt.Sprintf("%s was denied %s (%s); the message does not say which policy denied it.", orDash(rec.PrincipalARN()), orDash(rec.EventName), rec.ErrorCode),
		"nextSteps": []string{"Read the denied principal's policies and the resource's policy for a statement covering this action."},
	}
	var exp denial.Explanation
	b, _ := json.Marshal(doc)
	_ = json.Unmarshal(b, &exp) // every value above fits the documented JSON
	return exp
}

// Diagnoser handles CloudTrail denials from the default bus.
type Diagnoser struct {
	Settings settings.Settings
	Diagnose DiagnoseFunc
	Store    Store
	Bus      Bus
	Log      *slog.Logger
}

// Handle handles one EventBridge event ("AWS API Call via CloudTrail").
func (d *Diagnoser) Handle(ctx context.Context, raw json.RawMessage) error {
	line := newLine(d.Log, "diagnose")
	return line.run(ctx, func() error { return d.handle(ctx, raw, line) })
}

func (d *Diagnoser) handle(ctx context.Context, raw json.RawMessage, line *logLine) error {
	ev, rec, err := cloudtrail.DecodeEvent(raw)
	line.add("eventId", ev.ID)
	if err != nil {
		line.outcome, line.err = OutcomeDropped, err
		return nil
	}
	line.add("errorCode", rec.ErrorCode)
	line.add("eventName", rec.EventName)
	if !denial.IsDenialCode(rec.ErrorCode) {
		line.outcome = OutcomeIgnoredNoDenial
		return nil
	}
	var issuer string
	if sc := rec.UserIdentity.SessionContext; sc != nil && sc.SessionIssuer != nil {
		issuer = sc.SessionIssuer.ARN
	}
	line.add("principal", rec.PrincipalARN())
	switch d.Settings.IgnoreReason(rec.UserIdentity.ARN, issuer) {
	case "denyfix role":
		line.outcome = OutcomeIgnoredSelf
		return nil
	case "ignored principal":
		line.outcome = OutcomeIgnoredPrincipal
		return nil
	}

	diag, err := d.Diagnose(ctx, rec)
	if err != nil {
		return fmt.Errorf("diagnose event %s: %w", ev.ID, err)
	}
	exp := diag.Explanation
	line.add("cause", exp.Cause.String())
	key := finding.Key{
		Account:   firstOf(exp.Account, rec.Account()),
		Principal: firstOf(exp.Principal, rec.PrincipalARN()),
		Action:    firstOf(exp.Action, actionOf(rec)),
		Resource:  firstOf(exp.Resource, ""),
		Cause:     exp.Cause,
	}
	occ := finding.Occurrence{Key: key, EventID: ev.ID, Explanation: diag.Document}
	if diag.Fix != nil && diag.Fix.Kind != fix.KindNone {
		occ.Fix, occ.Mode = diag.Fix, d.Settings.ModeFor(diag.Fix.Kind)
		if occ.Mode != settings.ModeNotify && !d.Settings.BucketAllowed(diag.Fix.Account, diag.Fix.Bucket) {
			// Nothing outside the allowlists may change, so proposing it
			// would only ask operators for a decision that cannot be applied.
			occ.Mode = settings.ModeNotify
			line.add("fixNotAllowlisted", diag.Fix.Bucket)
		}
		line.add("fix", diag.Fix.Kind.String())
		line.add("mode", occ.Mode.String())
	}
	out, err := d.Store.Record(ctx, occ)
	if err != nil {
		return err
	}
	line.add("fingerprint", out.Finding.Fingerprint)
	line.add("count", out.Finding.Count)
	line.outcome = OutcomeRecorded
	if out.Notify {
		if err := d.Bus.Publish(ctx, bus.DenialDiagnosed, out.Finding, Actor); err != nil {
			return err
		}
		line.add("published", bus.DenialDiagnosed.String())
	}
	if out.Proposed {
		if err := d.Bus.Publish(ctx, bus.FixProposed, out.Finding, Actor); err != nil {
			return err
		}
		line.outcome = OutcomeProposed
	}
	return nil
}

func actionOf(rec cloudtrail.Record) string {
	if rec.Service() == "" || rec.EventName == "" {
		return ""
	}
	return rec.Service() + ":" + rec.EventName
}

func firstOf(p *string, fallback string) string {
	if p != nil && *p != "" {
		return *p
	}
	return fallback
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
