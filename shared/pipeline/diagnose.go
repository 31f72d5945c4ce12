package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
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
// probes, and so never proposes a fix.
func ExplainOnly(_ context.Context, rec cloudtrail.Record) (Diagnosis, error) {
	exp, ok := denial.Explain(rec)
	if !ok { // the Diagnoser passes only denial codes, which always explain
		return Diagnosis{}, fmt.Errorf("event %s: errorCode %q is not a denial", rec.EventID, rec.ErrorCode)
	}
	doc, err := json.Marshal(exp)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("encode explanation: %w", err)
	}
	return Diagnosis{Explanation: exp, Document: doc}, nil
}

// Live diagnoses with the read-only probes of r: the explanation, the
// evidence and the proposed fix.
func Live(r *diagnosis.Runner) DiagnoseFunc {
	return func(ctx context.Context, rec cloudtrail.Record) (Diagnosis, error) {
		dg, ok := r.Diagnose(ctx, rec)
		if !ok {
			return ExplainOnly(ctx, rec)
		}
		doc, err := json.Marshal(dg)
		if err != nil {
			return Diagnosis{}, fmt.Errorf("encode diagnosis: %w", err)
		}
		return Diagnosis{Explanation: dg.Explanation, Document: doc, Fix: dg.Fix}, nil
	}
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
		Action:    firstOf(exp.Action, ""),
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

func firstOf(p *string, fallback string) string {
	if p != nil && *p != "" {
		return *p
	}
	return fallback
}
