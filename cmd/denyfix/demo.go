package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/denyfix/denyfix/events"
	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/localdeploy"
	"github.com/denyfix/denyfix/shared/motoserver"
	"github.com/denyfix/denyfix/shared/notify"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/sampleworld"
	"github.com/denyfix/denyfix/shared/settings"
)

const demoUsage = `Usage: denyfix demo [--format text|json]

Runs the whole denyfix pipeline on the sample events built into this binary,
against a private moto server it starts on a free local port and stops at
the end. Nothing touches AWS.

  1. creates the findings table, the denyfix bus with the remediate and
     notify rules (delivering to SQS queues), and the SNS topic with an SQS
     subscription;
  2. builds the buckets, policies, keys, access point and VPC endpoint behind
     the S3 samples;
  3. runs the diagnose handler on every CloudTrail sample (s3-*, denial-*,
     ignored-*) with live read-only probes;
  4. approves the bucket policy ARN whitespace proposal as an operator, runs
     the remediate handler on the "Fix Approved" event the rule delivered,
     shows the bucket policy before and after, shows that a second approval
     and a replayed event change nothing, and rolls the fix back;
  5. runs the notify handler on every bus event and reads the notifications
     back from the topic's subscription.

Requires moto_server on PATH (pip install 'moto[server]').

Exit status: 0 every step did what it should, 1 a step failed, 2 bad usage
or moto_server missing.

Flags:
`

// The demo's configuration, as the deployed functions would read it from
// their environment.
const (
	demoApproverRole = "arn:aws:iam::" + sampleworld.Account + ":role/SecurityOperator"
	// demoApprover is the operator calling the approve Function URL: a
	// session of the approver role.
	demoApprover = "arn:aws:sts::" + sampleworld.Account + ":assumed-role/SecurityOperator/alice"
	// demoDenyfixRole is the diagnose role the sample of denyfix's own
	// denial names.
	demoDenyfixRole = "arn:aws:iam::111122223333:role/denyfix-DiagnoseRole-3FJ2K8L1M0QZ"
)

func demoEnv(d localdeploy.Deployment) map[string]string {
	return map[string]string{
		settings.EnvTableName:                                       d.Table,
		settings.EnvEventBusName:                                    d.Bus,
		settings.EnvTopicARN:                                        d.TopicARN,
		settings.EnvDenyfixRoleARNs:                                 demoDenyfixRole,
		settings.EnvBucketAllowlist:                                 strings.Join(sampleworld.Buckets(), ","),
		settings.EnvAccountAllowlist:                                sampleworld.Account,
		settings.EnvApproverARNs:                                    demoApproverRole,
		settings.ModeEnv[fix.KindS3BucketPolicyARNWhitespace]:       "propose",
		settings.ModeEnv[fix.KindS3EnforceBucketOwner]:              "auto",
		settings.ModeEnv[fix.KindS3ObjectACLBucketOwnerFullControl]: "propose",
	}
}

func runDemo(ctx context.Context, sio stdio, args []string) int {
	fs := newFlags(sio, "demo", demoUsage)
	format := fs.formatFlag("text, or json (one object per step)", "text", "json")
	rest, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		return fs.usageError()
	}

	start := time.Now()
	srv, err := motoserver.Start(ctx)
	if errors.Is(err, motoserver.ErrNotInstalled) {
		fmt.Fprintln(sio.err, "denyfix demo: moto_server is not on PATH; install it with: pip install 'moto[server]'")
		return exitUsage
	}
	rep := &demoReporter{w: sio.out, json: *format == "json"}
	if err != nil {
		rep.fail("moto", err)
		return exitNone
	}
	defer srv.Stop()
	rep.emit(fmt.Sprintf("moto server: %s (private to this run, stopped at the end)", srv.URL),
		map[string]any{"step": "moto", "ok": true, "url": srv.URL})

	d := newDemo(srv, rep)
	if err := d.run(ctx); err != nil {
		rep.fail("demo", err)
	}
	d.summary(time.Since(start))
	if rep.failed {
		return exitNone
	}
	return exitOK
}

// demo holds the clients and handlers of one run and what it saw.
type demo struct {
	rep *demoReporter

	s3   *s3.Client
	ctl  *s3control.Client
	kms  *kms.Client
	ec2  *ec2.Client
	ddb  *dynamodb.Client
	eb   *eventbridge.Client
	sqs  *sqs.Client
	sns  *sns.Client
	dep  localdeploy.Deployment
	set  settings.Settings
	logs *demoLogLine

	store     *finding.Store
	diagnoser *pipeline.Diagnoser
	remed     *pipeline.Remediator
	approver  *pipeline.Approver
	// worlds adjust each S3 sample to the world built for it; adjust is
	// the one of the sample being diagnosed.
	worlds map[string]sampleworld.Adjust
	adjust sampleworld.Adjust

	// counts for the summary
	samples, proposals, applied, rolledBack, notifications int
	outcomes                                               map[string]int
	fingerprints                                           map[string]bool
}

func newDemo(srv *motoserver.Server, rep *demoReporter) *demo {
	cfg := srv.Config()
	return &demo{
		rep: rep,
		// A local endpoint serves buckets by path only.
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ctl: s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.EndpointResolverV2 = s3probe.StaticControlEndpoint{URL: srv.URL} }),
		kms: kms.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg),
		eb: eventbridge.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		logs:         &demoLogLine{},
		outcomes:     map[string]int{},
		fingerprints: map[string]bool{},
	}
}

func (d *demo) run(ctx context.Context) error {
	if err := d.deploy(ctx); err != nil {
		return err
	}
	if err := d.buildWorld(ctx); err != nil {
		return err
	}
	whitespace, err := d.diagnoseAll(ctx)
	if err != nil {
		return err
	}
	if err := d.remediateQueued(ctx); err != nil {
		return err
	}
	if whitespace == "" {
		d.rep.fail("approve", errors.New("no s3_bucket_policy_arn_whitespace proposal was opened"))
	} else if err := d.operate(ctx, whitespace); err != nil {
		return err
	}
	return d.notifyAll(ctx, whitespace)
}

// deploy creates the stack's resources in moto and wires the handlers as
// the functions' mains do.
func (d *demo) deploy(ctx context.Context) error {
	dep, err := localdeploy.Create(ctx, localdeploy.Clients{DynamoDB: d.ddb, Events: d.eb, SQS: d.sqs, SNS: d.sns}, localdeploy.DefaultNames)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	d.dep = dep
	env := demoEnv(dep)
	if d.set, err = settings.Parse(func(k string) string { return env[k] }); err != nil {
		return err
	}
	d.store = finding.NewStore(d.ddb, dep.Table)
	d.store.Thresholds, d.store.ProposalTTL = d.set.NotifyThresholds, d.set.ProposalTTL
	pub := bus.NewPublisher(d.eb, dep.Bus)
	applier := fix.NewApplier(d.s3, d.set.BucketAllowed)
	log := slog.New(d.logs)
	runner := &diagnosis.Runner{Prober: s3probe.New(d.s3, d.ctl, d.kms, d.ec2)}
	live := pipeline.Live(runner)
	d.diagnoser = &pipeline.Diagnoser{
		Settings: d.set, Store: d.store, Bus: pub, Log: log,
		Diagnose: func(ctx context.Context, rec cloudtrail.Record) (pipeline.Diagnosis, error) {
			if d.adjust != nil {
				d.adjust(&rec)
			}
			return live(ctx, rec)
		},
	}
	d.remed = &pipeline.Remediator{Store: d.store, Bus: pub, Fixer: applier, Log: log}
	d.approver = &pipeline.Approver{Settings: d.set, Store: d.store, Bus: pub, Fixer: applier, Log: log}

	d.rep.emit(fmt.Sprintf("deployed: table %s; bus %s with rules remediate and notify → SQS; topic %s → SQS subscription", dep.Table, dep.Bus, dep.TopicARN),
		map[string]any{"step": "deploy", "ok": true, "table": dep.Table, "bus": dep.Bus, "topicArn": dep.TopicARN,
			"remediateQueue": dep.RemediateQueueURL, "notifyQueue": dep.NotifyQueueURL, "subscriptionQueue": dep.TopicQueueURL})
	keys := slices.Sorted(maps.Keys(env))
	var text strings.Builder
	text.WriteString("settings:")
	for _, k := range keys {
		if strings.HasPrefix(k, "MODE_") || k == settings.EnvApproverARNs || k == settings.EnvAccountAllowlist {
			fmt.Fprintf(&text, " %s=%s", k, env[k])
		}
	}
	fmt.Fprintf(&text, " %s=(%d sample buckets)", settings.EnvBucketAllowlist, len(sampleworld.Buckets()))
	d.rep.emit(text.String(), map[string]any{"step": "settings", "ok": true, "env": env})
	return nil
}

// buildWorld creates the configuration behind every S3 sample that has one.
func (d *demo) buildWorld(ctx context.Context) error {
	c := sampleworld.Clients{S3: d.s3, Control: d.ctl, KMS: d.kms, EC2: d.ec2}
	adjusts := map[string]sampleworld.Adjust{}
	for _, ev := range sampleworld.Events() {
		a, err := sampleworld.Build(ctx, c, ev)
		if err != nil {
			return err
		}
		adjusts[ev] = a
	}
	d.worlds = adjusts
	s3Samples, err := fs.Glob(events.FS, "s3-*.json")
	if err != nil {
		return fmt.Errorf("sample events: %w", err)
	}
	without := slices.DeleteFunc(s3Samples, func(n string) bool { _, ok := adjusts[n]; return ok })
	d.rep.emit(fmt.Sprintf("sample world: %d buckets with their objects, policies, Block Public Access, KMS key, access point and VPC endpoint, for %d S3 samples;\n"+
		"  no world in moto for %s (moto cannot model their causes; the diagnosis tests serve S3's own XML for them)",
		len(sampleworld.Buckets()), len(adjusts), strings.Join(without, ", ")),
		map[string]any{"step": "world", "ok": true, "samples": sampleworld.Events(), "buckets": sampleworld.Buckets(), "withoutWorld": without})
	return nil
}

// demoCheck is one piece of failing evidence.
type demoCheck struct {
	Name         string `json:"name"`
	Sid          string `json:"sid,omitempty"`
	ConditionKey string `json:"conditionKey,omitempty"`
}

// demoDiagnoseStep is the JSON line of one diagnosed sample.
type demoDiagnoseStep struct {
	Step           string      `json:"step"`
	OK             bool        `json:"ok"`
	Sample         string      `json:"sample"`
	Outcome        string      `json:"outcome"`
	HandlerOutcome string      `json:"handlerOutcome"`
	Cause          string      `json:"cause,omitempty"`
	Failed         []demoCheck `json:"failed,omitempty"`
	Fix            string      `json:"fix,omitempty"`
	Mode           string      `json:"mode,omitempty"`
	Fingerprint    string      `json:"fingerprint,omitempty"`
	// Reason is why the handler dropped the event, as it logged it.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// diagnoseAll feeds every CloudTrail sample to the diagnose handler and
// returns the fingerprint of the whitespace proposal it opened, if any.
func (d *demo) diagnoseAll(ctx context.Context) (string, error) {
	names, err := fs.Glob(events.FS, "*.json")
	if err != nil {
		return "", fmt.Errorf("sample events: %w", err)
	}
	d.rep.emit("\ndiagnose (pipeline.Diagnoser with live read-only probes):", nil)
	var whitespace string
	for _, name := range names {
		if kind, _, _ := strings.Cut(name, "-"); kind != "s3" && kind != "denial" && kind != "ignored" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("interrupted: %w", err)
		}
		raw, err := fs.ReadFile(events.FS, name)
		if err != nil {
			return "", fmt.Errorf("sample %s: %w", name, err)
		}
		d.samples++
		d.adjust = d.worlds[name]
		herr := d.diagnoser.Handle(ctx, raw)
		d.adjust = nil
		line := d.logs.take()
		st := demoDiagnoseStep{Step: "diagnose", OK: herr == nil, Sample: strings.TrimSuffix(name, ".json"),
			HandlerOutcome: line["outcome"], Cause: line["cause"], Fix: line["fix"], Mode: line["mode"], Fingerprint: line["fingerprint"]}
		st.Outcome = demoOutcome(st.HandlerOutcome)
		if st.Outcome == "dropped" {
			st.Reason = line["error"]
		}
		if herr != nil {
			st.Error = herr.Error()
		}
		if st.Fingerprint != "" {
			d.fingerprints[st.Fingerprint] = true
			f, err := d.store.Get(ctx, st.Fingerprint)
			if err != nil {
				st.OK, st.Error = false, fmt.Sprintf("read finding back: %v", err)
			} else {
				st.Failed = demoFailedEvidence(f.Explanation)
			}
		}
		if st.Outcome == "proposed" {
			d.proposals++
			if st.Fix == fix.KindS3BucketPolicyARNWhitespace.String() {
				whitespace = st.Fingerprint
			}
		}
		if st.Outcome == "failed" {
			st.OK = false
		}
		d.outcomes[st.Outcome]++
		d.rep.emitStep(demoDiagnoseText(st, line), st)
	}
	return whitespace, nil
}

// demoOutcome folds a handler outcome into recorded, proposed, ignored,
// dropped or failed.
func demoOutcome(o string) string {
	switch {
	case o == string(pipeline.OutcomeRecorded), o == string(pipeline.OutcomeProposed):
		return o
	case strings.HasPrefix(o, "ignored_"):
		return "ignored"
	case o == string(pipeline.OutcomeDropped):
		return "dropped"
	}
	return "failed"
}

func demoDiagnoseText(st demoDiagnoseStep, line map[string]string) string {
	what := st.Cause
	switch st.HandlerOutcome {
	case string(pipeline.OutcomeIgnoredSelf):
		what = "denyfix's own role"
	case string(pipeline.OutcomeIgnoredPrincipal):
		what = "ignored principal"
	case string(pipeline.OutcomeIgnoredNoDenial):
		what = "not a denial: " + demoOr(line["errorCode"], "no error")
	case string(pipeline.OutcomeDropped):
		what = st.Reason
	}
	var ev []string
	for _, c := range st.Failed {
		e := c.Name
		var why []string
		if c.Sid != "" {
			why = append(why, "Sid "+c.Sid)
		}
		if c.ConditionKey != "" {
			why = append(why, c.ConditionKey)
		}
		if len(why) > 0 {
			e += " (" + strings.Join(why, ", ") + ")"
		}
		ev = append(ev, e)
	}
	s := fmt.Sprintf("  %-46s %-9s %-33s", st.Sample, st.Outcome, what)
	if len(ev) > 0 {
		s += " failed: " + strings.Join(ev, "; ")
	}
	if st.Fix != "" {
		s += fmt.Sprintf("  → fix %s (%s)", st.Fix, st.Mode)
	}
	if st.Error != "" {
		s += "  ERROR: " + st.Error
	}
	return strings.TrimRight(s, " ")
}

// demoFailedEvidence lists the failing checks of a stored diagnosis document.
func demoFailedEvidence(doc json.RawMessage) []demoCheck {
	var dg struct {
		Evidence []s3probe.Check `json:"evidence"`
	}
	if json.Unmarshal(doc, &dg) != nil {
		return nil
	}
	var out []demoCheck
	for _, c := range dg.Evidence {
		if c.Result == s3probe.ResultFail {
			out = append(out, demoCheck{Name: c.Name, Sid: c.Sid, ConditionKey: c.ConditionKey})
		}
	}
	return out
}

// demoRemediateStep is the JSON line of one remediate invocation.
type demoRemediateStep struct {
	Step        string `json:"step"`
	OK          bool   `json:"ok"`
	DetailType  string `json:"detailType"`
	Outcome     string `json:"outcome"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Fix         string `json:"fix,omitempty"`
	Replay      bool   `json:"replay,omitempty"`
	Error       string `json:"error,omitempty"`
}

// remediateQueued runs the remediate handler on every event the remediate
// rule delivered.
func (d *demo) remediateQueued(ctx context.Context) error {
	bodies, err := localdeploy.Receive(ctx, d.sqs, d.dep.RemediateQueueURL)
	if err != nil {
		return err
	}
	if len(bodies) == 0 {
		d.rep.emit("\nremediate rule: no automatic proposal delivered (every fix above waits for approval or is notify-only)",
			map[string]any{"step": "remediate-queue", "ok": true, "delivered": 0})
	}
	for _, b := range bodies {
		d.remediate(ctx, json.RawMessage(b), false, "")
	}
	return nil
}

// remediate runs the remediate handler on one delivered bus event. want is
// the outcome the step must have, "" for any but a failure.
func (d *demo) remediate(ctx context.Context, raw json.RawMessage, replay bool, want pipeline.Outcome) demoRemediateStep {
	var ev bus.Event
	_ = json.Unmarshal(raw, &ev)
	herr := d.remed.Handle(ctx, raw)
	line := d.logs.take()
	st := demoRemediateStep{Step: "remediate", OK: herr == nil, DetailType: ev.DetailType, Outcome: line["outcome"],
		Fingerprint: line["fingerprint"], Fix: line["fix"], Replay: replay, Error: line["error"]}
	if herr != nil {
		st.Error = herr.Error()
	}
	if want != "" && st.Outcome != string(want) || st.Outcome == string(pipeline.OutcomeFailed) {
		st.OK = false
	}
	if st.Outcome == string(pipeline.OutcomeApplied) {
		d.applied++
	}
	what := "remediate"
	if replay {
		what = "remediate (same event again)"
	}
	text := fmt.Sprintf("  %s on %q: %s", what, st.DetailType, st.Outcome)
	if st.Error != "" {
		text += " (" + st.Error + ")"
	}
	d.rep.emitStep(text, st)
	return st
}

// demoApproveStep is the JSON line of one call to the approve handler.
type demoApproveStep struct {
	Step     string `json:"step"`
	OK       bool   `json:"ok"`
	Decision string `json:"decision"`
	Caller   string `json:"caller"`
	Status   int    `json:"status"`
	State    string `json:"state,omitempty"`
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
}

// approve sends one decision through the approve handler as the Function
// URL delivers it, and checks the answer's status.
func (d *demo) approve(ctx context.Context, fp, decision, reason string, wantStatus int) demoApproveStep {
	body, _ := json.Marshal(pipeline.Decision{Fingerprint: fp, Decision: decision, Reason: reason})
	req := lambdaevents.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Body: string(body)}
	req.RequestContext.RequestID = fmt.Sprintf("demo-%s-%d", decision, time.Now().UnixNano())
	req.RequestContext.HTTP.Method = "POST"
	req.RequestContext.Authorizer = &lambdaevents.LambdaFunctionURLRequestContextAuthorizerDescription{
		IAM: &lambdaevents.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: demoApprover, AccountID: sampleworld.Account},
	}
	resp, err := d.approver.Handle(ctx, req)
	line := d.logs.take()
	var ans pipeline.Answer
	_ = json.Unmarshal([]byte(resp.Body), &ans)
	st := demoApproveStep{Step: "approve", OK: err == nil && resp.StatusCode == wantStatus, Decision: decision, Caller: demoApprover,
		Status: resp.StatusCode, State: ans.State, Outcome: line["outcome"], Error: ans.Error}
	if err != nil {
		st.Error = err.Error()
	}
	text := fmt.Sprintf("  approve handler ← %s from %s: HTTP %d %s", decision, demoApprover, st.Status, demoOr(st.State, st.Outcome))
	if st.Error != "" {
		text += " (" + st.Error + ")"
	}
	d.rep.emitStep(text, st)
	return st
}

// demoPolicyStep is the JSON line of one read of the bucket policy.
type demoPolicyStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Bucket string `json:"bucket"`
	Stage  string `json:"stage"`
	SHA256 string `json:"sha256"`
	Policy string `json:"policy"`
	Error  string `json:"error,omitempty"`
}

// readPolicy reads the bucket policy back from S3.
func (d *demo) readPolicy(ctx context.Context, bucket, stage string) demoPolicyStep {
	st := demoPolicyStep{Step: "policy", OK: true, Bucket: bucket, Stage: stage}
	out, err := d.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		st.OK, st.Error = false, fmt.Sprintf("GetBucketPolicy: %v", err)
		return st
	}
	st.Policy = aws.ToString(out.Policy)
	st.SHA256 = fix.PolicyHash(st.Policy)
	return st
}

// operate is the operator's side of the whitespace proposal: approve,
// remediate the delivered approval, approve and replay again, roll back.
func (d *demo) operate(ctx context.Context, fp string) error {
	f, err := d.store.Get(ctx, fp)
	if err != nil {
		return fmt.Errorf("read proposal %s: %w", fp, err)
	}
	bucket := f.Proposal.Fix.Bucket
	d.rep.emit(fmt.Sprintf("\noperator: proposal %s (%s on %s, state %s)", fp, f.Proposal.Fix.Kind, bucket, f.Proposal.State), nil)

	before := d.readPolicy(ctx, bucket, "before")
	d.rep.emitStep("", before)

	if st := d.approve(ctx, fp, "approve", "partner feed needs it", 200); !st.OK {
		return nil
	}
	bodies, err := localdeploy.Receive(ctx, d.sqs, d.dep.RemediateQueueURL)
	if err != nil {
		return err
	}
	var approved json.RawMessage
	for _, b := range bodies {
		if _, dt, det, err := bus.DecodeEvent([]byte(b)); err == nil && dt == bus.FixApproved && det.Fingerprint == fp {
			approved = json.RawMessage(b)
		}
	}
	d.rep.emit(fmt.Sprintf("  remediate rule delivered %d event(s) to its queue", len(bodies)),
		map[string]any{"step": "remediate-queue", "ok": approved != nil, "delivered": len(bodies), "fixApproved": approved != nil})
	if approved == nil {
		return nil
	}
	d.remediate(ctx, approved, false, pipeline.OutcomeApplied)

	after := d.readPolicy(ctx, bucket, "after fix")
	after.OK = after.OK && after.SHA256 != before.SHA256 && after.Policy == f.Proposal.Fix.NewPolicy
	d.rep.emitStep(demoPolicyDiff(bucket, before.Policy, after.Policy), after)

	d.rep.emit("  once only:", nil)
	d.approve(ctx, fp, "approve", "clicked twice", 409)
	d.remediate(ctx, approved, true, pipeline.OutcomeDuplicate)
	again := d.readPolicy(ctx, bucket, "after second approval and replay")
	again.OK = again.OK && again.SHA256 == after.SHA256
	d.rep.emitStep(fmt.Sprintf("  bucket policy unchanged by them: %v (sha256 %s)", again.SHA256 == after.SHA256, demoShort(again.SHA256)), again)
	if _, err := localdeploy.Receive(ctx, d.sqs, d.dep.RemediateQueueURL); err != nil {
		return err
	}

	if st := d.approve(ctx, fp, "rollback", "demo: restore the original", 200); st.OK && st.State == finding.StateRolledBack.String() {
		d.rolledBack++
	}
	restored := d.readPolicy(ctx, bucket, "after rollback")
	restored.OK = restored.OK && restored.Policy == before.Policy
	d.rep.emitStep(fmt.Sprintf("  bucket policy restored to the original: %v (sha256 %s)", restored.Policy == before.Policy, demoShort(restored.SHA256)), restored)
	return nil
}

// demoPolicyDiff shows the lines of the policy the fix changed.
func demoPolicyDiff(bucket, before, after string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  bucket policy of %s, read back with GetBucketPolicy:\n", bucket)
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(bl) != len(al) {
		fmt.Fprintf(&b, "    before:\n%s\n    after:\n%s", demoIndent(before, "      "), demoIndent(after, "      "))
		return b.String()
	}
	changed := 0
	for i := range bl {
		if bl[i] != al[i] {
			changed++
			fmt.Fprintf(&b, "    - %s\n    + %s\n", strings.TrimSpace(bl[i]), strings.TrimSpace(al[i]))
		}
	}
	fmt.Fprintf(&b, "    (%d of %d lines changed; sha256 %s → %s)", changed, len(bl), demoShort(fix.PolicyHash(before)), demoShort(fix.PolicyHash(after)))
	return b.String()
}

// demoNotifyStep is the JSON line of one notify invocation.
type demoNotifyStep struct {
	Step        string `json:"step"`
	OK          bool   `json:"ok"`
	DetailType  string `json:"detailType"`
	Outcome     string `json:"outcome"`
	Fingerprint string `json:"fingerprint,omitempty"`
	MessageID   string `json:"messageId,omitempty"`
	Error       string `json:"error,omitempty"`
}

// demoSNSEnvelope is a notification as the SQS subscription receives it.
type demoSNSEnvelope struct {
	Type              string `json:"Type"`
	MessageID         string `json:"MessageId"`
	Subject           string `json:"Subject"`
	Message           string `json:"Message"`
	MessageAttributes map[string]struct {
		Value string `json:"Value"`
	} `json:"MessageAttributes"`
}

// notifyAll runs the notify handler on every event the notify rule
// delivered and reads the notifications back from the topic's subscription.
func (d *demo) notifyAll(ctx context.Context, showFingerprint string) error {
	bodies, err := localdeploy.Receive(ctx, d.sqs, d.dep.NotifyQueueURL)
	if err != nil {
		return err
	}
	rec := &demoSentNotifications{next: notify.NewPublisher(d.sns, d.dep.TopicARN), sent: map[string]notify.Notification{}}
	n := &pipeline.NotifyHandler{SNS: rec, Log: slog.New(d.logs)}
	published := 0
	for _, b := range bodies {
		herr := n.Handle(ctx, json.RawMessage(b))
		line := d.logs.take()
		st := demoNotifyStep{Step: "notify", OK: herr == nil && line["outcome"] == string(pipeline.OutcomeNotified), DetailType: line["detailType"],
			Outcome: line["outcome"], Fingerprint: line["fingerprint"], MessageID: line["messageId"], Error: line["error"]}
		if herr != nil {
			st.Error = herr.Error()
		}
		if st.OK {
			published++
		}
		text := ""
		if !st.OK {
			text = fmt.Sprintf("  notify on %q: %s %s", st.DetailType, st.Outcome, st.Error)
		}
		d.rep.emitStep(text, st)
	}

	delivered, err := localdeploy.Receive(ctx, d.sqs, d.dep.TopicQueueURL)
	if err != nil {
		return err
	}
	byType := map[string]int{}
	var show *demoSNSEnvelope
	for _, b := range delivered {
		var env demoSNSEnvelope
		if err := json.Unmarshal([]byte(b), &env); err != nil || env.Type != "Notification" {
			continue
		}
		dt := env.MessageAttributes["eventType"].Value
		byType[dt]++
		d.notifications++
		if show == nil && dt == bus.FixProposed.String() && strings.Contains(env.Message, showFingerprint) {
			show = &env
		}
	}
	ok := len(bodies) > 0 && published == len(bodies) && d.notifications == published
	var text strings.Builder
	fmt.Fprintf(&text, "\nnotify: the notify rule delivered %d bus events; pipeline.NotifyHandler published %d to SNS; the topic's SQS subscription received %d:", len(bodies), published, d.notifications)
	for _, dt := range bus.DetailTypes() {
		if c := byType[dt.String()]; c > 0 {
			fmt.Fprintf(&text, "\n  %-17s %3d", dt, c)
		}
	}
	d.rep.emit(text.String(), map[string]any{"step": "notifications", "ok": ok, "busEvents": len(bodies), "published": published, "received": d.notifications, "byDetailType": byType})

	if show == nil {
		d.rep.fail("notification", errors.New("no Fix Proposed notification of the whitespace proposal was delivered"))
		return nil
	}
	sent := rec.get(show.MessageID)
	var chat notify.Chatbot
	_ = json.Unmarshal([]byte(show.Message), &chat)
	t := fmt.Sprintf("\none notification as delivered (SNS message %s):\n  Subject: %s\n  Chat (Chatbot JSON): %s\n  Email text:\n%s",
		show.MessageID, show.Subject, chat.Content.Title, demoIndent(strings.TrimRight(sent.Text, "\n"), "    | "))
	d.rep.emit(t, map[string]any{"step": "notification", "ok": sent.Text != "", "messageId": show.MessageID, "detailType": bus.FixProposed.String(),
		"subject": show.Subject, "chatTitle": chat.Content.Title, "email": sent.Text})
	return nil
}

// demoSentNotifications is the SNS publisher with a memory of what it sent,
// by message ID, so the email text of a delivered message can be shown
// (the SQS subscription receives the chat message).
type demoSentNotifications struct {
	next *notify.Publisher
	mu   sync.Mutex
	sent map[string]notify.Notification
}

// Publish publishes n and remembers it under its message ID.
func (s *demoSentNotifications) Publish(ctx context.Context, n notify.Notification) (string, error) {
	id, err := s.next.Publish(ctx, n)
	if err == nil {
		s.mu.Lock()
		s.sent[id] = n
		s.mu.Unlock()
	}
	return id, err
}

func (s *demoSentNotifications) get(id string) notify.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[id]
}

// summary prints the totals.
func (d *demo) summary(elapsed time.Duration) {
	m := map[string]any{
		"step": "summary", "ok": !d.rep.failed, "events": d.samples, "outcomes": d.outcomes, "findings": len(d.fingerprints),
		"proposals": d.proposals, "fixesApplied": d.applied, "fixesRolledBack": d.rolledBack, "notifications": d.notifications,
		"failedSteps": d.rep.failures, "elapsedMs": elapsed.Milliseconds(),
	}
	status := "every step did what it should"
	if d.rep.failed {
		status = fmt.Sprintf("%d step(s) FAILED", d.rep.failures)
	}
	d.rep.emit(fmt.Sprintf("\nsummary: %d events processed (%d recorded, %d proposed, %d ignored, %d dropped); %d findings; %d proposals; %d fix applied, %d rolled back; %d notifications; %s; %s",
		d.samples, d.outcomes["recorded"], d.outcomes["proposed"], d.outcomes["ignored"], d.outcomes["dropped"], len(d.fingerprints),
		d.proposals, d.applied, d.rolledBack, d.notifications, elapsed.Round(10*time.Millisecond), status), m)
}

// demoReporter writes each step as text or as one JSON object per line, and
// remembers whether any failed.
type demoReporter struct {
	w        io.Writer
	json     bool
	failed   bool
	failures int
}

// emit writes one step: text in text mode (nothing when empty), v in JSON
// mode (nothing when nil). A step whose "ok" is false counts as failed.
func (r *demoReporter) emit(text string, v map[string]any) {
	if v == nil {
		r.write(text, nil)
		return
	}
	if ok, _ := v["ok"].(bool); !ok {
		r.failed = true
		r.failures++
	}
	r.write(text, v)
}

// emitStep is emit for a typed step with an OK field.
func (r *demoReporter) emitStep(text string, v interface{ ok() bool }) {
	if !v.ok() {
		r.failed = true
		r.failures++
	}
	r.write(text, v)
}

func (r *demoReporter) write(text string, v any) {
	if r.json {
		if v == nil {
			return
		}
		enc := json.NewEncoder(r.w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return
	}
	if text != "" {
		fmt.Fprintln(r.w, text)
	}
}

// fail reports a step that could not run at all.
func (r *demoReporter) fail(step string, err error) {
	r.emit(fmt.Sprintf("%s: FAILED: %v", step, err), map[string]any{"step": step, "ok": false, "error": err.Error()})
}

func (s demoDiagnoseStep) ok() bool  { return s.OK }
func (s demoRemediateStep) ok() bool { return s.OK }
func (s demoApproveStep) ok() bool   { return s.OK }
func (s demoPolicyStep) ok() bool    { return s.OK }
func (s demoNotifyStep) ok() bool    { return s.OK }

// demoLogLine is a slog handler keeping the attributes of the last line a
// handler logged: each pipeline handler logs exactly one line per event,
// with its outcome.
type demoLogLine struct {
	mu    sync.Mutex
	attrs map[string]string
}

// Enabled accepts every level.
func (l *demoLogLine) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps the record's attributes as text.
func (l *demoLogLine) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.attrs = m
	l.mu.Unlock()
	return nil
}

// WithAttrs is not used by the handlers; it returns l.
func (l *demoLogLine) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup is not used by the handlers; it returns l.
func (l *demoLogLine) WithGroup(string) slog.Handler { return l }

// take returns the last line's attributes and forgets them.
func (l *demoLogLine) take() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.attrs
	l.attrs = nil
	if m == nil {
		m = map[string]string{}
	}
	return m
}

func demoIndent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func demoShort(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func demoOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
