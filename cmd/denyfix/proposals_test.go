package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/settings"
)

// operatorWorld is a findings table in moto holding what the functions
// would have recorded: proposals in several states.
type operatorWorld struct {
	s3    *s3.Client
	db    *dynamodb.Client
	store *finding.Store
	table string
	// Fingerprints of the recorded findings.
	proposed, applied, rejected, notified string
}

const (
	worldAccount = "111122223333"
	worldBucket  = "amzn-s3-demo-bucket"
)

// newOperatorWorld starts moto, points the default AWS configuration at it
// (as a user would, through the environment) and records the findings.
func newOperatorWorld(t *testing.T) *operatorWorld {
	t.Helper()
	w := &operatorWorld{s3: motoEnv(t), table: "denyfix-FindingsTable-1A2B3C4D5E6F"}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.db = dynamodb.NewFromConfig(cfg)
	if err := finding.CreateTable(ctx, w.db, w.table); err != nil {
		t.Fatal(err)
	}
	w.store = finding.NewStore(w.db, w.table)
	now := time.Now().Add(-3 * time.Hour)
	w.store.Now = func() time.Time { return now }

	doc := diagnosisJSON(t)
	record := func(user string, mode settings.Mode, p *fix.Proposal) string {
		t.Helper()
		now = now.Add(time.Minute)
		k := finding.Key{Account: worldAccount, Principal: "arn:aws:iam::111122223333:user/" + user, Action: "s3:GetObject",
			Resource: "arn:aws:s3:::" + worldBucket + "/reports/q3.csv", Cause: denial.CauseCrossAccountObjectOwnership}
		if _, err := w.store.Record(ctx, finding.Occurrence{Key: k, EventID: "evt-" + user, Explanation: doc, Fix: p, Mode: mode}); err != nil {
			t.Fatal(err)
		}
		return k.Fingerprint()
	}
	move := func(fp string, t2 finding.Transition) {
		t.Helper()
		if _, err := w.store.Move(ctx, fp, t2); err != nil {
			t.Fatal(err)
		}
	}
	enforce := &fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: worldAccount, Bucket: worldBucket,
		Summary:       "Set Object Ownership of " + worldBucket + " to BucketOwnerEnforced.",
		Command:       "aws s3api put-bucket-ownership-controls --bucket " + worldBucket + " --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
		Preconditions: []string{"the bucket ACL grants only the bucket owner"}}

	w.applied = record("ana", settings.ModeAuto, enforce)
	move(w.applied, finding.Transition{From: finding.StateProposed, To: finding.StateApproved, Actor: "denyfix"})
	move(w.applied, finding.Transition{From: finding.StateApproved, To: finding.StateApplying, Actor: "denyfix"})
	move(w.applied, finding.Transition{From: finding.StateApplying, To: finding.StateApplied, Actor: "denyfix",
		Change: &fix.Change{Kind: fix.KindS3EnforceBucketOwner, Before: fix.Snapshot{Ownership: "ObjectWriter"}, After: fix.Snapshot{Ownership: fix.OwnershipEnforced}}})
	w.rejected = record("ben", settings.ModePropose, enforce)
	move(w.rejected, finding.Transition{From: finding.StateProposed, To: finding.StateRejected, Actor: "arn:aws:iam::111122223333:user/op", Reason: "bucket is being retired"})
	w.notified = record("cai", settings.ModeNotify, enforce)
	w.proposed = record("dee", settings.ModePropose, enforce)
	return w
}

// diagnosisJSON is an explanation with evidence, as diagnose stores it.
func diagnosisJSON(t *testing.T) json.RawMessage {
	t.Helper()
	rec, err := cloudtrail.NewReader(strings.NewReader("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied")).Next()
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := denial.Explain(rec)
	if !ok {
		t.Fatal("sample message not explained")
	}
	exp.Cause = denial.CauseCrossAccountObjectOwnership
	exp.Summary = "The object was written by another account, which still owns it."
	d := diagnosis.Diagnosis{Explanation: exp, Evidence: []s3probe.Check{{
		Name: "object_ownership", Result: s3probe.ResultFail, Detail: "object owner differs from the bucket owner; ownership is ObjectWriter",
		Calls: []string{"s3:GetBucketOwnershipControls", "s3:GetObjectAcl"},
	}}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProposalsCommand(t *testing.T) {
	w := newOperatorWorld(t)
	t.Setenv(tableEnv, w.table)

	tests := []struct {
		name    string
		env     string // the value of DENYFIX_TABLE
		args    []string
		code    int
		has     []string // fragments stdout must hold
		hasNot  []string // fragments stdout must not hold
		lines   int      // JSON lines on stdout, for --format json
		errHas  string   // a fragment stderr must hold
		jsonOne bool     // stdout is one Finding object
	}{
		{name: "proposed by default", args: []string{"proposals"}, code: exitOK,
			has: []string{"FINGERPRINT", w.proposed, "proposed", "s3_enforce_bucket_owner", worldBucket, "cross_account_object_ownership", "user/dee"}, hasNot: []string{w.applied, w.rejected, w.notified}},
		{name: "all, newest first", args: []string{"proposals", "--state", "all"}, code: exitOK, has: []string{w.proposed, w.applied, w.rejected}, hasNot: []string{w.notified}},
		{name: "several states", args: []string{"proposals", "--state", "applied,rejected", "--format", "json"}, code: exitOK, lines: 2},
		{name: "table flag beats the environment", env: "no-such-table", args: []string{"proposals", "--table", w.table, "--state", "applied"}, code: exitOK, has: []string{w.applied}},
		{name: "none match", args: []string{"proposals", "--state", "expired"}, code: exitNone, errHas: "no proposal matches"},
		{name: "unknown state", args: []string{"proposals", "--state", "pending"}, code: exitUsage, errHas: `unknown state "pending"`},
		{name: "bad format", args: []string{"proposals", "--format", "yaml"}, code: exitUsage, errHas: "unknown --format"},
		{name: "unknown table", env: "no-such-table", args: []string{"proposals"}, code: exitUsage, errHas: "does not exist"},
		{name: "stray argument", args: []string{"proposals", "everything"}, code: exitUsage, errHas: "Usage:"},
		{name: "show proposed", args: []string{"proposals", "show", w.proposed}, code: exitOK,
			has: []string{"Finding " + w.proposed, "user/dee", "another account, which still owns it", "Evidence:", "FAIL object_ownership", "[s3:GetBucketOwnershipControls, s3:GetObjectAcl]",
				"Proposal (s3_enforce_bucket_owner, mode propose): proposed", "aws s3api put-bucket-ownership-controls", "precondition the bucket ACL", "expires", "denyfix approve " + w.proposed}},
		{name: "show applied with saved state", args: []string{"proposals", "show", "--format", "text", w.applied}, code: exitOK,
			has: []string{"mode auto): applied", "Saved state (for rollback):", "before object ownership ObjectWriter", "after  object ownership BucketOwnerEnforced", "denyfix rollback " + w.applied}},
		{name: "show rejected with reason", args: []string{"proposals", "show", w.rejected}, code: exitOK, has: []string{"): rejected", "arn:aws:iam::111122223333:user/op", "bucket is being retired"}, hasNot: []string{"Saved state"}},
		{name: "show json, flag after fingerprint", args: []string{"proposals", "show", w.applied, "--format", "json"}, code: exitOK, jsonOne: true},
		{name: "show unknown", args: []string{"proposals", "show", "0123456789abcdef0123456789abcdef"}, code: exitNone, errHas: "no finding"},
		{name: "show without fingerprint", args: []string{"proposals", "show"}, code: exitUsage, errHas: "exactly one FINGERPRINT"},
		{name: "help", args: []string{"proposals", "--help"}, code: exitOK, errHas: "describe-stacks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tableEnv, tc.env)
			}
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit code: got %d; want %d (stdout %s, stderr %s)", code, tc.code, out, errOut)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(out, s) {
					t.Errorf("stdout holds %q:\n%s", s, out)
				}
			}
			if tc.errHas != "" && !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr: got %q; want it to hold %q", errOut, tc.errHas)
			}
			if tc.lines > 0 {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != tc.lines {
					t.Fatalf("JSON lines: got %d; want %d\n%s", len(lines), tc.lines, out)
				}
				for _, l := range lines {
					var f finding.Finding
					if err := json.Unmarshal([]byte(l), &f); err != nil || f.Proposal == nil {
						t.Errorf("line %s: got error %v; want a finding with a proposal", l, err)
					}
				}
			}
			if tc.jsonOne {
				var f finding.Finding
				if err := json.Unmarshal([]byte(out), &f); err != nil {
					t.Fatalf("stdout is not one finding: %v\n%s", err, out)
				}
				if f.Fingerprint != w.applied || f.Proposal.Change == nil || f.Proposal.Change.Before.Ownership != "ObjectWriter" {
					t.Errorf("got %+v; want the applied finding with its saved state", f)
				}
			}
		})
	}

	t.Run("newest first", func(t *testing.T) {
		_, out, _ := runCLI(t, "", "proposals", "--state", "all")
		iProposed, iRejected, iApplied := strings.Index(out, w.proposed), strings.Index(out, w.rejected), strings.Index(out, w.applied)
		if !(iProposed < iRejected && iRejected < iApplied) {
			t.Errorf("got order proposed@%d rejected@%d applied@%d; want newest (proposed) first, oldest (applied) last:\n%s", iProposed, iRejected, iApplied, out)
		}
	})

	t.Run("no table", func(t *testing.T) {
		t.Setenv(tableEnv, "")
		code, _, errOut := runCLI(t, "", "proposals")
		if code != exitUsage || !strings.Contains(errOut, tableEnv) {
			t.Errorf("got exit %d, stderr %q; want %d and a hint naming %s", code, errOut, exitUsage, tableEnv)
		}
	})
}

func TestParseStates(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []finding.State
		wantErr bool
	}{
		{"all", "all", nil, false},
		{"one", "approved", []finding.State{finding.StateApproved}, false},
		{"several with spaces", "applied, rolled_back", []finding.State{finding.StateApplied, finding.StateRolledBack}, false},
		{"none is not a proposal state", "none", nil, true},
		{"unknown", "pending", nil, true},
		{"empty", "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStates(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v; want error %v", err, tc.wantErr)
			}
			if len(got.States) != len(tc.want) {
				t.Fatalf("got %v; want %v", got.States, tc.want)
			}
			for i := range tc.want {
				if got.States[i] != tc.want[i] {
					t.Errorf("got %v; want %v", got.States, tc.want)
				}
			}
		})
	}
}
