package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
)

const proposalsUsage = `Usage: denyfix proposals [--table NAME] [--state STATE[,STATE...]|all] [--format text|json]
       denyfix proposals show [--table NAME] [--format text|json] FINGERPRINT

Lists the findings that have a proposed fix, newest first: fingerprint,
state, fix, bucket/key, cause, principal, count, last seen and, while
undecided, when the proposal expires. "show" prints one finding in full:
the explanation, the evidence of the live checks, the exact change the fix
makes and, once applied, the state saved before and after it.

The table is the stack's TableName output; --table overrides $DENYFIX_TABLE:
  export DENYFIX_TABLE=$(aws cloudformation describe-stacks --stack-name denyfix \
    --query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue" --output text)
Credentials and region come from the usual AWS configuration; reading needs
dynamodb:Scan and dynamodb:GetItem on the table.

STATE is one of proposed, approved, applying, applied, failed, skipped,
rejected, expired, rolling_back, rolled_back, or all.

Exit status: 0 something listed or shown, 1 nothing matched, 2 bad usage,
unknown table or no permission, 3 any other AWS failure.

Flags:
`

// tableEnv names the environment variable holding the findings table name.
const tableEnv = "DENYFIX_TABLE"

func runProposals(ctx context.Context, sio stdio, args []string) int {
	fs := newFlags(sio, "proposals", proposalsUsage)
	table := fs.String("table", "", "findings table name (default $"+tableEnv+")")
	stateFlag := fs.String("state", "proposed", "states to list, comma-separated, or all")
	format := fs.formatFlag("text or json (one finding per line)", "text", "json")
	rest, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	show := len(rest) > 0 && rest[0] == "show"
	switch {
	case show && len(rest) != 2:
		fmt.Fprintln(sio.err, "denyfix proposals show: give exactly one FINGERPRINT")
		return exitUsage
	case !show && len(rest) > 0:
		return fs.usageError()
	}
	filter, err := parseStates(*stateFlag)
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix proposals: --state: %v\n", err)
		return exitUsage
	}
	if *table == "" {
		*table = os.Getenv(tableEnv)
	}
	if *table == "" {
		fmt.Fprintf(sio.err, "denyfix proposals: no table: give --table or set %s to the stack's TableName output (see --help)\n", tableEnv)
		return exitUsage
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix proposals: AWS configuration: %v\n", err)
		return exitUsage
	}
	db := dynamodb.NewFromConfig(cfg)
	if show {
		return showProposal(ctx, sio, db, *table, rest[1], *format == "json")
	}
	return listProposals(ctx, sio, db, *table, filter, *format == "json")
}

// parseStates reads --state: comma-separated state names, or all.
func parseStates(v string) (finding.Filter, error) {
	if v == "all" {
		return finding.Filter{}, nil
	}
	var f finding.Filter
	for _, name := range strings.Split(v, ",") {
		var s finding.State
		if err := s.UnmarshalText([]byte(strings.TrimSpace(name))); err != nil || s == finding.StateNone {
			return finding.Filter{}, fmt.Errorf("unknown state %q", name)
		}
		f.States = append(f.States, s)
	}
	return f, nil
}

func listProposals(ctx context.Context, sio stdio, api finding.ScanAPI, table string, filter finding.Filter, asJSON bool) int {
	list, err := finding.List(ctx, api, table, filter)
	if err != nil {
		return awsFailure(sio, "denyfix proposals", table, err)
	}
	if len(list) == 0 {
		fmt.Fprintln(sio.err, "denyfix proposals: no proposal matches")
		return exitNone
	}
	if asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetEscapeHTML(false)
		for _, f := range list {
			if err := enc.Encode(f); err != nil {
				fmt.Fprintf(sio.err, "denyfix proposals: write: %v\n", err)
				return exitInternal
			}
		}
		return exitOK
	}
	if err := writeProposalTable(sio.out, list, time.Now()); err != nil {
		fmt.Fprintf(sio.err, "denyfix proposals: write: %v\n", err)
		return exitInternal
	}
	return exitOK
}

// writeProposalTable prints one aligned row per finding. The fingerprint is
// printed whole: it is what approve, reject and rollback take.
func writeProposalTable(w io.Writer, list []finding.Finding, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FINGERPRINT\tSTATE\tFIX\tBUCKET/KEY\tCAUSE\tPRINCIPAL\tCOUNT\tLAST SEEN\tEXPIRES")
	for _, f := range list {
		p := f.Proposal
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			f.Fingerprint, p.State, p.Fix.Kind, fixTarget(p.Fix), f.Cause, orDash(f.Principal), f.Count, shortTime(f.LastSeen), expiryText(p, now))
	}
	return tw.Flush()
}

func showProposal(ctx context.Context, sio stdio, api finding.API, table, fingerprint string, asJSON bool) int {
	f, err := finding.NewStore(api, table).Get(ctx, fingerprint)
	if errors.Is(err, finding.ErrNotFound) {
		fmt.Fprintf(sio.err, "denyfix proposals show: no finding %s in %s\n", fingerprint, table)
		return exitNone
	}
	if err != nil {
		return awsFailure(sio, "denyfix proposals show", table, err)
	}
	if asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetEscapeHTML(false)
		err = enc.Encode(f)
	} else {
		_, err = io.WriteString(sio.out, formatFinding(&f, time.Now()))
	}
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix proposals show: write: %v\n", err)
		return exitInternal
	}
	return exitOK
}

// awsFailure reports a failed table read. A wrong table name or missing
// permission is the operator's to fix (2); anything else is unexpected (3).
func awsFailure(sio stdio, prefix, table string, err error) int {
	fmt.Fprintf(sio.err, "%s: %v\n", prefix, err)
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return exitInternal
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		fmt.Fprintf(sio.err, "%s: table %s does not exist here: check --table, $%s and the region\n", prefix, table, tableEnv)
		return exitUsage
	case "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException":
		fmt.Fprintf(sio.err, "%s: reading the table needs %s on it\n", prefix, strings.Join(finding.ReaderIAMActions, " and "))
		return exitUsage
	}
	return exitInternal
}

// formatFinding is one finding in full: what was denied, the stored
// diagnosis, and the proposal with its exact change.
func formatFinding(f *finding.Finding, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Finding %s\n", f.Fingerprint)
	row := func(label, v string) { fmt.Fprintf(&b, "  %-11s %s\n", label, v) }
	row("account", orDash(f.Account))
	row("principal", orDash(f.Principal))
	row("action", orDash(f.Action))
	row("resource", orDash(f.Resource))
	row("cause", f.Cause.String())
	times := "times"
	if f.Count == 1 {
		times = "time"
	}
	row("seen", fmt.Sprintf("%d %s, first %s, last %s", f.Count, times, shortTime(f.FirstSeen), shortTime(f.LastSeen)))

	if len(f.Explanation) > 0 {
		b.WriteString("\n")
		var d diagnosis.Diagnosis
		if err := json.Unmarshal(f.Explanation, &d); err == nil {
			// The proposal below is the live record of the fix; the copy
			// inside the explanation is what diagnosis first proposed.
			d.Fix = nil
			b.WriteString(formatDiagnosis(&d))
		} else {
			// Written by another version of denyfix: show it as it is.
			b.WriteString("  Explanation (as stored):\n")
			b.WriteString(indentLines(string(f.Explanation), "    "))
		}
	}

	p := f.Proposal
	if p == nil {
		b.WriteString("\n  No proposal: no catalogue fix applies, or the mode is notify.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\n  Proposal (%s, mode %s): %s\n", p.Fix.Kind, p.Mode, p.State)
	prow := func(label, v string) { fmt.Fprintf(&b, "    %-12s %s\n", label, v) }
	prow("change", p.Fix.Summary)
	if t := fixTarget(p.Fix); t != "-" {
		where := t
		if p.Fix.Account != "" {
			where += " in account " + p.Fix.Account
		}
		if p.Fix.Region != "" {
			where += " (" + p.Fix.Region + ")"
		}
		prow("on", where)
	}
	if p.Fix.Command != "" {
		prow("command", p.Fix.Command)
	}
	for _, pc := range p.Fix.Preconditions {
		prow("precondition", pc)
	}
	if p.Fix.NewPolicy != "" {
		b.WriteString("    new bucket policy:\n")
		b.WriteString(indentLines(p.Fix.NewPolicy, "      "))
	}
	if p.State == finding.StateProposed {
		prow("expires", expiryText(p, now))
	}
	last := orDash(p.Actor) + " at " + shortTime(p.UpdatedAt)
	if p.Reason != "" {
		last += ": " + p.Reason
	}
	prow("last step", last)
	if p.Error != "" {
		prow("error", p.Error)
	}
	if p.Change != nil {
		b.WriteString("\n  Saved state (for rollback):\n")
		b.WriteString(formatSnapshot("before", p.Change.Kind, p.Change.Before))
		b.WriteString(formatSnapshot("after", p.Change.Kind, p.Change.After))
	}
	switch p.State {
	case finding.StateProposed:
		fmt.Fprintf(&b, "\n  Decide: denyfix approve %[1]s --reason TEXT  |  denyfix reject %[1]s --reason TEXT\n", f.Fingerprint)
	case finding.StateApplied:
		fmt.Fprintf(&b, "\n  Undo: denyfix rollback %s --reason TEXT\n", f.Fingerprint)
	}
	return b.String()
}

// formatSnapshot prints the one field of a snapshot the fix's kind sets.
func formatSnapshot(label string, kind fix.Kind, s fix.Snapshot) string {
	var b strings.Builder
	switch {
	case s.ACL != nil:
		fmt.Fprintf(&b, "    %-6s object ACL, owner %s\n", label, s.ACL.OwnerID)
		for _, g := range s.ACL.Grants {
			who := g.ID + g.URI + g.Email
			fmt.Fprintf(&b, "             grant %s to %s %s\n", g.Permission, g.Type, who)
		}
	case s.Policy != "":
		fmt.Fprintf(&b, "    %-6s bucket policy:\n", label)
		b.WriteString(indentLines(s.Policy, "             "))
	case s.Ownership != "":
		fmt.Fprintf(&b, "    %-6s object ownership %s\n", label, s.Ownership)
	case kind == fix.KindS3EnforceBucketOwner:
		// An empty ownership is recorded state: the bucket had no
		// ownership controls, and rollback deletes them again.
		fmt.Fprintf(&b, "    %-6s no ownership controls\n", label)
	default:
		fmt.Fprintf(&b, "    %-6s nothing recorded\n", label)
	}
	return b.String()
}

func fixTarget(p fix.Proposal) string {
	switch {
	case p.Bucket == "":
		return "-"
	case p.Key == "":
		return p.Bucket
	}
	return p.Bucket + "/" + p.Key
}

// expires says when an undecided proposal lapses; decided ones do not.
func expiryText(p *finding.Proposal, now time.Time) string {
	if p.State != finding.StateProposed || p.Deadline.IsZero() {
		return "-"
	}
	if !now.Before(p.Deadline) {
		return shortTime(p.Deadline) + " (passed)"
	}
	return shortTime(p.Deadline)
}

func shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}
