package denyfix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/mototest"
)

// sample is one file of events/.
type sample struct {
	name string // file name, e.g. "denial-sts-assumerole-trust-policy.json"
	raw  []byte
}

// kind is the sample's prefix: s3, denial, ignored or bus.
func (s sample) kind() string {
	k, _, _ := strings.Cut(s.name, "-")
	return k
}

// envelope is an EventBridge event as a rule target receives it; decoding
// with DisallowUnknownFields rejects anything else.
type envelope = cloudtrail.Event

func loadSamples(t *testing.T) []sample {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no events/*.json")
	}
	var out []sample
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{name: filepath.Base(p), raw: raw})
	}
	return out
}

func decodeEnvelope(raw []byte) (envelope, error) {
	var ev envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, err
	}
	if dec.More() {
		return ev, fmt.Errorf("more than one JSON value")
	}
	return ev, nil
}

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	sampleKey = regexp.MustCompile(`^(s3|denial|ignored|bus)-[a-z0-9]+(-[a-z0-9]+)*\.json$`)
)

func TestSampleEventsAreEventBridgeEnvelopes(t *testing.T) {
	for _, s := range loadSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			if !sampleKey.MatchString(s.name) {
				t.Errorf("file name %q: want s3-|denial-|ignored-|bus-<kebab-name>.json", s.name)
			}
			ev, err := decodeEnvelope(s.raw)
			if err != nil {
				t.Fatalf("not an EventBridge envelope: %v", err)
			}
			if ev.Version != "0" || ev.ID == "" || ev.DetailType == "" || ev.Source == "" || ev.Region == "" {
				t.Errorf("envelope version=%q id=%q detail-type=%q source=%q region=%q; want all set, version \"0\"",
					ev.Version, ev.ID, ev.DetailType, ev.Source, ev.Region)
			}
			if !accountID.MatchString(ev.Account) {
				t.Errorf("account = %q; want 12 digits", ev.Account)
			}
			if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
				t.Errorf("time = %q: %v", ev.Time, err)
			}
			if ev.Resources == nil {
				t.Errorf("resources missing; EventBridge always sends the list")
			}
			var detail map[string]json.RawMessage
			if err := json.Unmarshal(ev.Detail, &detail); err != nil {
				t.Errorf("detail is not an object: %v", err)
			}

			switch {
			case s.kind() == "bus":
				checkBusSample(t, s)
			case ev.DetailType == cloudtrail.DetailTypeAPICall:
				checkCloudTrailSample(t, s, ev)
			case s.kind() != "ignored":
				t.Errorf("detail-type %q in a %s- sample; want %q", ev.DetailType, s.kind(), cloudtrail.DetailTypeAPICall)
			}
		})
	}
}

// checkCloudTrailSample checks a CloudTrail record the way CloudTrail writes
// it: the fields denyfix relies on are there and agree with the envelope.
func checkCloudTrailSample(t *testing.T, s sample, ev envelope) {
	t.Helper()
	_, rec, err := cloudtrail.DecodeEvent(s.raw)
	if err != nil {
		t.Fatalf("cloudtrail.DecodeEvent: %v", err)
	}
	if got, want := ev.Source, "aws."+rec.Service(); got != want {
		t.Errorf("source = %q; want %q (from eventSource %q)", got, want, rec.EventSource)
	}
	if rec.EventID == "" || rec.EventName == "" || rec.EventTime == "" || rec.RequestID == "" {
		t.Errorf("eventID=%q eventName=%q eventTime=%q requestID=%q; want all set", rec.EventID, rec.EventName, rec.EventTime, rec.RequestID)
	}
	if rec.EventID == ev.ID {
		t.Errorf("envelope id equals CloudTrail eventID %q; EventBridge assigns its own", ev.ID)
	}
	if rec.AWSRegion != ev.Region {
		t.Errorf("awsRegion = %q; envelope region = %q", rec.AWSRegion, ev.Region)
	}
	if rec.RecipientAccountID != ev.Account {
		t.Errorf("recipientAccountId = %q; envelope account = %q", rec.RecipientAccountID, ev.Account)
	}
	if rec.UserIdentity.Type == "" || rec.UserIdentity.AccountID == "" {
		t.Errorf("userIdentity = %+v; want type and accountId", rec.UserIdentity)
	}
	if rec.UserIdentity.Type == "AssumedRole" {
		if sc := rec.UserIdentity.SessionContext; sc == nil || sc.SessionIssuer == nil || sc.Attributes.CreationDate == "" {
			t.Errorf("assumed-role identity without sessionContext.sessionIssuer and attributes")
		}
	}
	// No tlsDetails means the request came over plain HTTP, which is real
	// (aws:SecureTransport denials); when present it names the version.
	if rec.TLSDetails != nil && (rec.TLSDetails.TLSVersion == "" || rec.TLSDetails.CipherSuite == "") {
		t.Errorf("tlsDetails = %+v; want tlsVersion and cipherSuite", *rec.TLSDetails)
	}
	if rec.EventCategory != "Management" && rec.EventCategory != "Data" {
		t.Errorf("eventCategory = %q; want Management or Data", rec.EventCategory)
	}
	if rec.ManagementEvent == nil || *rec.ManagementEvent != (rec.EventCategory == "Management") {
		t.Errorf("managementEvent = %v with eventCategory %q", rec.ManagementEvent, rec.EventCategory)
	}
	isDenial := denial.IsDenialCode(rec.ErrorCode)
	switch s.kind() {
	case "s3", "denial":
		if !isDenial {
			t.Errorf("errorCode %q is not a denial code", rec.ErrorCode)
		}
		if rec.ErrorMessage == "" {
			t.Errorf("denial without errorMessage")
		}
	case "ignored":
		if isDenial {
			t.Errorf("ignored sample has denial code %q", rec.ErrorCode)
		}
	}
}

// checkBusSample checks a denyfix bus event with the decoder the functions
// use, and the finding inside it against the finding package's own rules.
func checkBusSample(t *testing.T, s sample) {
	t.Helper()
	ev, dt, d, err := bus.DecodeEvent(s.raw)
	if err != nil {
		t.Fatalf("bus.DecodeEvent: %v", err)
	}
	if !strings.HasPrefix(s.name, "bus-"+dt.Kebab()+".json") && !strings.HasPrefix(s.name, "bus-"+dt.Kebab()+"-") {
		t.Errorf("file %s holds a %q event; want bus-%s[-variant].json", s.name, ev.DetailType, dt.Kebab())
	}
	var strict bus.Detail
	dec := json.NewDecoder(bytes.NewReader(ev.Detail))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&strict); err != nil {
		t.Errorf("detail has fields bus.Detail does not: %v", err)
	}
	key := finding.Key{Account: d.Account, Principal: d.Principal, Action: d.Action, Resource: d.Resource, Cause: d.Cause}
	if got, want := d.Fingerprint, key.Fingerprint(); got != want {
		t.Errorf("fingerprint = %s; want %s (finding.Key.Fingerprint)", got, want)
	}
	if d.Actor == "" {
		t.Errorf("detail.actor is empty")
	}
	if d.Proposal != nil && d.Proposal.Fix.Kind.String() == "none" {
		t.Errorf("proposal without a fix kind")
	}
}

func TestEveryBusDetailTypeHasASample(t *testing.T) {
	have := map[bus.DetailType]bool{}
	for _, s := range loadSamples(t) {
		if s.kind() != "bus" {
			continue
		}
		if _, dt, _, err := bus.DecodeEvent(s.raw); err == nil {
			have[dt] = true
		}
	}
	for _, dt := range bus.DetailTypes() {
		if !have[dt] {
			t.Errorf("no events/bus-%s.json sample", dt.Kebab())
		}
	}
}

// deliveries records which samples reached which rule's queue.
type deliveries map[string][]string // rule logical ID → sample names, sorted

// TestRulesRouteSampleEvents creates the template's rules in moto with SQS
// targets (moto's TestEventPattern always answers false, but its rule
// matching for SQS targets is the real pattern language), puts every sample
// event and checks exactly the intended ones arrive at each rule.
func TestRulesRouteSampleEvents(t *testing.T) {
	tpl := loadTemplate(t)
	samples := loadSamples(t)
	srv := mototest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)

	const busName = "denyfix"
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}

	rules := []string{denialRuleID, "RemediateRule", "NotifyRule"}
	queues := map[string]string{} // rule → queue URL
	for _, id := range rules {
		rule := tpl.resource(t, id, "AWS::Events::Rule")
		pattern, err := json.Marshal(rule.Properties["EventPattern"])
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(pattern, []byte(`"Ref"`)) || bytes.Contains(pattern, []byte(`"Fn::`)) {
			t.Fatalf("%s EventPattern uses intrinsic functions; the test needs it literal: %s", id, pattern)
		}
		in := &eventbridge.PutRuleInput{Name: aws.String(id), EventPattern: aws.String(string(pattern)), State: ebtypes.RuleStateEnabled}
		if ref(rule.Properties["EventBusName"]) == "DenyfixBus" {
			in.EventBusName = aws.String(busName)
		}
		if _, err := eb.PutRule(ctx, in); err != nil {
			t.Fatalf("PutRule %s: %v", id, err)
		}
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(id)})
		if err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("GetQueueAttributes: %v", err)
		}
		if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
			Rule: aws.String(id), EventBusName: in.EventBusName,
			Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
		}); err != nil {
			t.Fatalf("PutTargets %s: %v", id, err)
		}
		queues[id] = aws.ToString(q.QueueUrl)
	}

	// Denyfix events go on the denyfix bus, everything else on the default
	// bus; denials go on the denyfix bus too, to prove its rules ignore them.
	sent := map[string]string{} // EventBridge event id → sample name
	put := func(s sample, busName string) {
		t.Helper()
		ev, err := decodeEnvelope(s.raw)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		when, _ := time.Parse(time.RFC3339, ev.Time)
		entry := ebtypes.PutEventsRequestEntry{
			Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType),
			Detail: aws.String(string(ev.Detail)), Resources: ev.Resources, Time: aws.Time(when),
		}
		if busName != "" {
			entry.EventBusName = aws.String(busName)
		}
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
		if err != nil {
			t.Fatalf("PutEvents %s: %v", s.name, err)
		}
		if out.FailedEntryCount != 0 || len(out.Entries) != 1 {
			t.Fatalf("PutEvents %s: %d failed of %d", s.name, out.FailedEntryCount, len(out.Entries))
		}
		sent[aws.ToString(out.Entries[0].EventId)] = s.name
	}
	want := deliveries{}
	for _, s := range samples {
		switch s.kind() {
		case "bus":
			put(s, busName)
			want["NotifyRule"] = append(want["NotifyRule"], s.name)
		case "s3", "denial":
			put(s, "")
			put(s, busName)
			want[denialRuleID] = append(want[denialRuleID], s.name)
		case "ignored":
			put(s, "")
		}
	}
	// Only automatic proposals and approvals make remediate act.
	want["RemediateRule"] = []string{"bus-fix-approved.json", "bus-fix-proposed-auto.json"}

	got := deliveries{}
	for _, id := range rules {
		got[id] = drain(t, sq, queues[id], sent)
		sort.Strings(want[id])
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("%s received %d samples; want %d\n  unexpected: %v\n  missing:    %v",
				id, len(got[id]), len(want[id]), minus(got[id], want[id]), minus(want[id], got[id]))
		}
	}
}

// drain reads every message of a queue and returns the sample names they
// carry, sorted.
func drain(t *testing.T, sq *sqs.Client, url string, sent map[string]string) []string {
	t.Helper()
	var names []string
	for empty := 0; empty < 2; {
		out, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 300,
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range out.Messages {
			var ev envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("message body is not an event: %v", err)
			}
			name, ok := sent[ev.ID]
			if !ok {
				t.Fatalf("received event %s that was never sent", ev.ID)
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestDenialSamplesExplain reads each non-S3 denial sample as the IAM User
// Guide's "Troubleshoot access denied error messages" reads its message:
// the policy type to change, explicit or implicit, and the two-type and
// policy-ARN forms. Every denial-* sample must be listed here.
func TestDenialSamplesExplain(t *testing.T) {
	tests := map[string]struct {
		policyType denial.PolicyType
		denyKind   denial.DenyKind
		via        denial.PolicyType // zero: no "transitively through"
		policyARN  bool
	}{
		"denial-codecommit-identity-policy.json":              {denial.PolicyIdentityBased, denial.DenyImplicit, 0, false},
		"denial-codecommit-scp-explicit.json":                 {denial.PolicySCP, denial.DenyExplicit, 0, false},
		"denial-codecommit-session-policy.json":               {denial.PolicySession, denial.DenyImplicit, 0, false},
		"denial-codedeploy-permissions-boundary.json":         {denial.PolicyPermissionsBoundary, denial.DenyImplicit, 0, false},
		"denial-codedeploy-vpce-explicit.json":                {denial.PolicyVPCEndpoint, denial.DenyExplicit, 0, false},
		"denial-ec2-runinstances-scp.json":                    {denial.PolicySCP, denial.DenyExplicit, 0, false},
		"denial-kms-decrypt-key-policy.json":                  {denial.PolicyResourceBased, denial.DenyImplicit, 0, false},
		"denial-kms-getkeypolicy-denyfix-own-role.json":       {denial.PolicyResourceBased, denial.DenyImplicit, 0, false},
		"denial-sagemaker-permissions-boundary-explicit.json": {denial.PolicyPermissionsBoundary, denial.DenyExplicit, 0, false},
		"denial-secretsmanager-rcp.json":                      {denial.PolicyRCP, denial.DenyExplicit, 0, true},
		"denial-secretsmanager-resource-policy.json":          {denial.PolicyResourceBased, denial.DenyExplicit, 0, false},
		"denial-sns-publish-vpce-transitive-scp.json":         {denial.PolicySCP, denial.DenyExplicit, denial.PolicyVPCEndpoint, false},
		// SQS reports the queue key's denial without naming a policy:
		// unknown is the honest answer.
		"denial-sqs-sendmessage-kms.json":         {denial.PolicyUnknown, denial.DenyUnknown, 0, false},
		"denial-sts-assumerole-trust-policy.json": {denial.PolicyRoleTrust, denial.DenyImplicit, 0, false},
	}
	seen := map[string]bool{}
	for _, s := range loadSamples(t) {
		_, rec, err := cloudtrail.DecodeEvent(s.raw)
		if err != nil {
			continue // TestSampleEventsAreEventBridgeEnvelopes reports it
		}
		switch s.kind() {
		case "ignored":
			if _, ok := denial.Explain(rec); ok {
				t.Errorf("%s: Explain reports a denial; want none", s.name)
			}
			continue
		case "denial":
		default:
			continue
		}
		seen[s.name] = true
		t.Run(s.name, func(t *testing.T) {
			want, ok := tests[s.name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to the table", s.name)
			}
			e, ok := denial.Explain(rec)
			if !ok {
				t.Fatal("Explain reports no denial")
			}
			if e.PolicyType != want.policyType {
				t.Errorf("policyType = %v; want %v", e.PolicyType, want.policyType)
			}
			if e.DenyKind != want.denyKind {
				t.Errorf("denyKind = %v; want %v", e.DenyKind, want.denyKind)
			}
			var via denial.PolicyType
			if e.Via != nil {
				via = *e.Via
			}
			if via != want.via {
				t.Errorf("via = %v; want %v", via, want.via)
			}
			if got := e.PolicyARN != nil; got != want.policyARN {
				t.Errorf("policyArn present = %v; want %v", got, want.policyARN)
			}
			if e.Principal == nil || *e.Principal != rec.UserIdentity.ARN {
				t.Errorf("principal = %v; want %s", e.Principal, rec.UserIdentity.ARN)
			}
		})
	}
	for name := range tests {
		if !seen[name] {
			t.Errorf("expectation for %s, which is not in events/", name)
		}
	}
}
