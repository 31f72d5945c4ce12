// Package diagnosis turns a denial into one cause: the offline explanation
// of its message plus the evidence of the live S3 checks, weighed the way AWS
// evaluates (explicit denies before missing allows), with the fix from the
// catalogue where one applies.
//
// Decide is pure; Runner.Diagnose runs the checks and then calls it.
package diagnosis

import (
	"context"
	"time"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/s3probe"
)

// Diagnosis is the Explanation JSON object gaining the evidence of the live
// checks and the proposed fix (null when none applies).
type Diagnosis struct {
	denial.Explanation
	Evidence []s3probe.Check `json:"evidence"`
	Fix      *fix.Proposal   `json:"fix"`
}

// DefaultDeadline bounds all checks of one diagnosis: a Lambda invocation
// or a person at a terminal should not wait longer.
const DefaultDeadline = 20 * time.Second

// Runner diagnoses denials with live checks.
type Runner struct {
	// Prober runs the S3 checks; nil diagnoses from the message alone.
	Prober *s3probe.Prober
	// Deadline bounds all checks of one diagnosis; zero means DefaultDeadline.
	Deadline time.Duration
}

// Diagnose explains rec and, for S3 denials, runs every check concurrently
// and decides the cause. It reports false when rec is not a denial. It never
// fails: a check that cannot run becomes evidence saying why.
func (r *Runner) Diagnose(ctx context.Context, rec cloudtrail.Record) (Diagnosis, bool) {
	return r.DiagnoseSession(ctx, rec, nil)
}

// DiagnoseSession is Diagnose with the CloudTrail record of the AssumeRole
// call that created the denied request's session, whose session policy is
// then checked too. assumeRole may be nil.
func (r *Runner) DiagnoseSession(ctx context.Context, rec cloudtrail.Record, assumeRole *cloudtrail.Record) (Diagnosis, bool) {
	exp, ok := denial.Explain(rec)
	if !ok {
		return Diagnosis{}, false
	}
	t, isS3 := s3probe.NewTarget(rec)
	var checks []s3probe.Check
	if isS3 && r.Prober != nil {
		d := r.Deadline
		if d <= 0 {
			d = DefaultDeadline
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		checks = r.Prober.Run(ctx, t)
	}
	if isS3 && assumeRole != nil {
		checks = append(checks, SessionPolicyCheck(*assumeRole, t))
	}
	var target *s3probe.Target
	if isS3 {
		target = &t
	}
	return Decide(exp, target, checks), true
}
