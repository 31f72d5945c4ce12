// Package denyfix_test proves the deployable app: the SAM template's rules
// against the sample events (in a real EventBridge implementation, moto), its
// roles against the IAM actions the code calls, and the sample events
// themselves against the decoders the functions use.
package denyfix_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/notify"
	"github.com/denyfix/denyfix/shared/s3probe"
	"github.com/denyfix/denyfix/shared/settings"
)

// cfnTemplate is the part of a CloudFormation template the tests read.
type cfnTemplate struct {
	Parameters map[string]map[string]any `yaml:"Parameters"`
	Conditions map[string]any            `yaml:"Conditions"`
	Globals    map[string]any            `yaml:"Globals"`
	Resources  map[string]cfnResource    `yaml:"Resources"`
	Outputs    map[string]map[string]any `yaml:"Outputs"`
}

// cfnResource is one resource, intrinsic functions in their long JSON form
// ({"Ref": x}, {"Fn::GetAtt": [r, a]}, {"Fn::Sub": s}, ...).
type cfnResource struct {
	Type       string         `yaml:"Type"`
	Condition  string         `yaml:"Condition"`
	Properties map[string]any `yaml:"Properties"`
	Metadata   map[string]any `yaml:"Metadata"`
}

// loadTemplate reads template.yaml. yaml.v3 keeps CloudFormation's short
// tags (!Ref, !GetAtt, !Sub, ...) on the nodes; longForm turns each into the
// object CloudFormation itself would see.
func loadTemplate(t *testing.T) cfnTemplate {
	t.Helper()
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	if len(doc.Content) != 1 {
		t.Fatalf("template.yaml holds %d documents; want 1", len(doc.Content))
	}
	v, err := longForm(doc.Content[0])
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	// A round trip through YAML gives the typed view without a second parser.
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tpl cfnTemplate
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

// longForm converts a YAML node into plain Go values, rewriting short-form
// intrinsic function tags into their long form.
func longForm(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return longForm(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := longForm(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		// The short form "Resource.Attribute" splits at the first dot;
		// attributes such as Endpoint.Address keep theirs.
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q has no attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Sub", "If", "Equals", "Not", "And", "Or", "Join", "Split", "Select",
		"FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr", "Length", "ToJsonString":
		return map[string]any{"Fn::" + name: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
}

// resource returns the named resource of the given type, failing the test
// when it is missing or of another type.
func (tpl cfnTemplate) resource(t *testing.T, id, typ string) cfnResource {
	t.Helper()
	r, ok := tpl.Resources[id]
	if !ok {
		t.Fatalf("template.yaml has no resource %s", id)
	}
	if r.Type != typ {
		t.Fatalf("%s is a %s; want %s", id, r.Type, typ)
	}
	return r
}

// getAtt returns the resource a {"Fn::GetAtt": [r, attr]} names, "" if v is
// something else.
func getAtt(v any, attr string) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	args, ok := m["Fn::GetAtt"].([]any)
	if !ok || len(args) != 2 || args[1] != attr {
		return ""
	}
	s, _ := args[0].(string)
	return s
}

// ref returns the name a {"Ref": name} refers to, "" if v is something else.
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m["Ref"].(string)
	return s
}

// stringList returns v as a list of strings: a string is a list of one.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// denialRuleID is the logical ID of the CloudTrail rule on the default bus.
const denialRuleID = "DenialRule"

func TestDenialRuleMatchesDenialCodes(t *testing.T) {
	tpl := loadTemplate(t)
	rule := tpl.resource(t, denialRuleID, "AWS::Events::Rule")

	if got, want := rule.Properties["State"], "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"; got != want {
		t.Errorf("%s State = %v; want %v (read-only denials never arrive otherwise)", denialRuleID, got, want)
	}
	if bus, ok := rule.Properties["EventBusName"]; ok {
		t.Errorf("%s EventBusName = %v; want none (CloudTrail events arrive on the default bus)", denialRuleID, bus)
	}
	pattern, _ := rule.Properties["EventPattern"].(map[string]any)
	if got, want := stringList(pattern["detail-type"]), []string{"AWS API Call via CloudTrail"}; !slices.Equal(got, want) {
		t.Errorf("detail-type = %v; want %v", got, want)
	}
	detail, _ := pattern["detail"].(map[string]any)
	codes, ok := detail["errorCode"].([]any)
	if !ok {
		t.Fatalf("%s pattern has no detail.errorCode list: %v", denialRuleID, pattern)
	}

	var exact, wildcards []string
	for _, c := range codes {
		switch c := c.(type) {
		case string:
			exact = append(exact, c)
		case map[string]any:
			w, ok := c["wildcard"].(string)
			if !ok || len(c) != 1 {
				t.Errorf("errorCode matcher %v: want a plain code or {wildcard: ...}", c)
				continue
			}
			wildcards = append(wildcards, w)
		default:
			t.Errorf("errorCode matcher %v (%T): want a plain code or {wildcard: ...}", c, c)
		}
	}
	wantExact := slices.Clone(denial.Codes)
	sort.Strings(exact)
	sort.Strings(wantExact)
	if !slices.Equal(exact, wantExact) {
		t.Errorf("errorCode exact values = %v; want denial.Codes %v", exact, wantExact)
	}
	if want := []string{"*" + denial.CodeSubstring + "*"}; !slices.Equal(wildcards, want) {
		t.Errorf("errorCode wildcards = %v; want %v (denial.CodeSubstring anywhere)", wildcards, want)
	}
}

func TestRuleTargetsRetryAndDeadLetter(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		rule, function, bus string
	}{
		{denialRuleID, "DiagnoseFunction", ""},
		{"RemediateRule", "RemediateFunction", "DenyfixBus"},
		{"NotifyRule", "NotifyFunction", "DenyfixBus"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			rule := tpl.resource(t, tt.rule, "AWS::Events::Rule")
			if got := ref(rule.Properties["EventBusName"]); got != tt.bus {
				t.Errorf("EventBusName refers to %q; want %q", got, tt.bus)
			}
			targets, _ := rule.Properties["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("%d targets; want 1", len(targets))
			}
			target, _ := targets[0].(map[string]any)
			if got := getAtt(target["Arn"], "Arn"); got != tt.function {
				t.Errorf("target = %v; want %s", target["Arn"], tt.function)
			}
			retry, _ := target["RetryPolicy"].(map[string]any)
			if retry["MaximumRetryAttempts"] == nil || retry["MaximumEventAgeInSeconds"] == nil {
				t.Errorf("RetryPolicy = %v; want attempts and event age", retry)
			}
			dlq, _ := target["DeadLetterConfig"].(map[string]any)
			queue := getAtt(dlq["Arn"], "Arn")
			tpl.resource(t, queue, "AWS::SQS::Queue")
			if !queueAllowsEventBridge(tpl, queue, tt.rule) {
				t.Errorf("no queue policy lets events.amazonaws.com send %s's failures to %s", tt.rule, queue)
			}
			if !lambdaPermits(tpl, tt.function, tt.rule) {
				t.Errorf("no AWS::Lambda::Permission lets %s invoke %s", tt.rule, tt.function)
			}
		})
	}
}

// queueAllowsEventBridge reports whether a queue policy on queue allows
// events.amazonaws.com sqs:SendMessage for the rule's ARN.
func queueAllowsEventBridge(tpl cfnTemplate, queue, rule string) bool {
	for _, r := range tpl.Resources {
		if r.Type != "AWS::SQS::QueuePolicy" {
			continue
		}
		queues, _ := r.Properties["Queues"].([]any)
		if !slices.ContainsFunc(queues, func(q any) bool { return ref(q) == queue }) {
			continue
		}
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			principal, _ := st["Principal"].(map[string]any)
			if st["Effect"] != "Allow" || principal["Service"] != "events.amazonaws.com" ||
				!slices.Contains(stringList(st["Action"]), "sqs:SendMessage") {
				continue
			}
			cond, _ := st["Condition"].(map[string]any)
			arnEquals, _ := cond["ArnEquals"].(map[string]any)
			sources, _ := arnEquals["aws:SourceArn"].([]any)
			if slices.ContainsFunc(sources, func(s any) bool { return getAtt(s, "Arn") == rule }) {
				return true
			}
		}
	}
	return false
}

// lambdaPermits reports whether a Lambda permission lets the rule invoke the function.
func lambdaPermits(tpl cfnTemplate, function, rule string) bool {
	for _, r := range tpl.Resources {
		p := r.Properties
		if r.Type == "AWS::Lambda::Permission" && ref(p["FunctionName"]) == function &&
			p["Action"] == "lambda:InvokeFunction" && p["Principal"] == "events.amazonaws.com" &&
			getAtt(p["SourceArn"], "Arn") == rule {
			return true
		}
	}
	return false
}

// functions maps each Lambda's logical ID to its package directory.
var functions = map[string]string{
	"DiagnoseFunction":  "diagnose",
	"RemediateFunction": "remediate",
	"ApproveFunction":   "approve",
	"NotifyFunction":    "notify",
}

func TestFunctionsBuildWithMakefile(t *testing.T) {
	tpl := loadTemplate(t)
	globals, _ := tpl.Globals["Function"].(map[string]any)
	for _, kv := range []struct {
		key  string
		want any
	}{
		{"Runtime", "provided.al2023"},
		{"Handler", "bootstrap"},
		{"CodeUri", "."},
		{"MemorySize", 128},
	} {
		if got := globals[kv.key]; got != kv.want {
			t.Errorf("Globals.Function.%s = %v; want %v", kv.key, got, kv.want)
		}
	}
	if got := stringList(globals["Architectures"]); !slices.Equal(got, []string{"arm64"}) {
		t.Errorf("Globals.Function.Architectures = %v; want [arm64]", got)
	}
	env, _ := globals["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	// Exactly the variables package settings reads.
	wantVars := []string{
		settings.EnvTableName, settings.EnvEventBusName, settings.EnvTopicARN, settings.EnvLogLevel,
		settings.EnvDenyfixRoleARNs, settings.EnvIgnorePrincipals, settings.EnvBucketAllowlist,
		settings.EnvAccountAllowlist, settings.EnvApproverARNs, settings.EnvProposalTTL, settings.EnvNotifyThresholds,
	}
	for _, k := range fix.Kinds() {
		wantVars = append(wantVars, settings.ModeEnv[k])
	}
	sort.Strings(wantVars)
	if !slices.Equal(names, wantVars) {
		t.Errorf("environment variables = %v; want %v", names, wantVars)
	}

	refs := map[string]string{
		settings.EnvTableName:                                       "FindingsTable",
		settings.EnvEventBusName:                                    "DenyfixBus",
		settings.EnvTopicARN:                                        "NotificationTopic",
		settings.EnvLogLevel:                                        "LogLevel",
		settings.EnvIgnorePrincipals:                                "IgnorePrincipals",
		settings.EnvBucketAllowlist:                                 "BucketAllowlist",
		settings.EnvAccountAllowlist:                                "AccountAllowlist",
		settings.EnvApproverARNs:                                    "ApproverArns",
		settings.EnvProposalTTL:                                     "ProposalTtl",
		settings.EnvNotifyThresholds:                                "NotifyThresholds",
		settings.ModeEnv[fix.KindS3EnforceBucketOwner]:              "ModeS3EnforceBucketOwner",
		settings.ModeEnv[fix.KindS3ObjectACLBucketOwnerFullControl]: "ModeS3ObjectAcl",
		settings.ModeEnv[fix.KindS3BucketPolicyARNWhitespace]:       "ModeS3BucketPolicyArnWhitespace",
	}
	for env, want := range refs {
		if got := ref(vars[env]); got != want {
			t.Errorf("%s = %v; want !Ref %s", env, vars[env], want)
		}
	}
	// denyfix must recognise every one of its own roles, to never react to itself.
	roles, _ := json.Marshal(vars[settings.EnvDenyfixRoleARNs])
	for id := range functions {
		fn := tpl.resource(t, id, "AWS::Serverless::Function")
		role := getAtt(fn.Properties["Role"], "Arn")
		if role == "" || !strings.Contains(string(roles), `["`+role+`","Arn"]`) {
			t.Errorf("%s = %s; want the ARN of %s's role %s", settings.EnvDenyfixRoleARNs, roles, id, role)
		}
	}

	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for id, dir := range functions {
		t.Run(id, func(t *testing.T) {
			fn := tpl.resource(t, id, "AWS::Serverless::Function")
			if got := fn.Metadata["BuildMethod"]; got != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v; want makefile", got)
			}
			target := "build-" + id + ":"
			if !strings.Contains(string(makefile), "\n"+target) {
				t.Errorf("Makefile has no %s target", target)
			}
			cmd := exec.Command("make", "--no-print-directory", "-n", "build-"+id, "ARTIFACTS_DIR=/artifacts")
			// Under `make test` the parent's flags would leak into the dry run.
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
			})
			dry, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s", id, err, dry)
			}
			want := "GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags '-s -w' -o /artifacts/bootstrap ./functions/" + dir
			if got := strings.TrimSpace(string(dry)); got != want {
				t.Errorf("make build-%s runs\n  %s\nwant\n  %s", id, got, want)
			}
		})
	}
}

func TestApproveURLUsesIAM(t *testing.T) {
	tpl := loadTemplate(t)
	fn := tpl.resource(t, "ApproveFunction", "AWS::Serverless::Function")
	url, _ := fn.Properties["FunctionUrlConfig"].(map[string]any)
	if got := url["AuthType"]; got != "AWS_IAM" {
		t.Errorf("ApproveFunction FunctionUrlConfig.AuthType = %v; want AWS_IAM", got)
	}
	for _, out := range []string{"TopicArn", "EventBusName", "ApproveUrl", "TableName"} {
		if _, ok := tpl.Outputs[out]; !ok {
			t.Errorf("no output %s", out)
		}
	}
}

func TestModeParameters(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		param string
		want  []string
	}{
		{"ModeS3EnforceBucketOwner", []string{"notify", "propose", "auto"}},
		{"ModeS3ObjectAcl", []string{"notify", "propose", "auto"}},
		// The whitespace fix widens access: never automatic.
		{"ModeS3BucketPolicyArnWhitespace", []string{"notify", "propose"}},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			p := tpl.Parameters[tt.param]
			if got := stringList(p["AllowedValues"]); !slices.Equal(got, tt.want) {
				t.Errorf("AllowedValues = %v; want %v", got, tt.want)
			}
			if got := p["Default"]; got != "propose" {
				t.Errorf("Default = %v; want propose", got)
			}
		})
	}
	if got := tpl.Parameters["EnableDataEventsTrail"]["Default"]; got != "false" {
		t.Errorf("EnableDataEventsTrail default = %v; want false", got)
	}
	if got := tpl.Parameters["ProposalTtl"]["Default"]; got != "72h" {
		t.Errorf("ProposalTtl default = %v; want 72h", got)
	}
	for _, id := range []string{"TrailBucket", "TrailBucketPolicy", "DataEventsTrail"} {
		if got := tpl.Resources[id].Condition; got != "CreateDataEventsTrail" {
			t.Errorf("%s Condition = %q; want CreateDataEventsTrail (off by default)", id, got)
		}
	}
}

func TestCfnLint(t *testing.T) {
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint not found on PATH (make test needs it): %v", err)
	}
	out, err := exec.Command(path, "template.yaml").CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// codeActions lists, per function, the IAMActions of the packages its code
// uses: the template's role must grant exactly these, plus infraActions.
var codeActions = map[string][][]string{
	"DiagnoseFunction":  {s3probe.IAMActions, finding.IAMActions, bus.IAMActions},
	"RemediateFunction": {fix.IAMActions, finding.IAMActions, bus.IAMActions},
	"ApproveFunction":   {fix.IAMActions, finding.IAMActions, bus.IAMActions}, // rollback
	"NotifyFunction":    {notify.IAMActions},
}

// infraActions are what Lambda itself needs beyond the code's calls. Logs
// come from the AWSLambdaBasicExecutionRole managed policy (checked apart);
// sqs:SendMessage lets Lambda move an event its function failed on, after
// the async retries, to the function dead-letter queue. ApproveFunction is
// only called synchronously through its URL, so it has no dead-letter queue.
var infraActions = map[string][]string{
	"DiagnoseFunction":  {"sqs:SendMessage"},
	"RemediateFunction": {"sqs:SendMessage"},
	"ApproveFunction":   nil,
	"NotifyFunction":    {"sqs:SendMessage"},
}

// statements returns a role's inline policy statements. A statement under
// !If [condition, statement, !Ref AWS::NoValue] counts as present: the test
// checks the widest role the template can produce.
func statements(t *testing.T, role cfnResource) []map[string]any {
	t.Helper()
	var out []map[string]any
	policies, _ := role.Properties["Policies"].([]any)
	for _, p := range policies {
		pol, _ := p.(map[string]any)
		doc, _ := pol["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			if cond, ok := st["Fn::If"].([]any); ok && len(cond) == 3 {
				st, _ = cond[1].(map[string]any)
			}
			if st == nil {
				t.Fatalf("statement %v is neither a statement nor !If [cond, statement, NoValue]", s)
			}
			out = append(out, st)
		}
	}
	return out
}

func TestRolesGrantExactlyTheActionsTheCodeCalls(t *testing.T) {
	tpl := loadTemplate(t)
	for id := range functions {
		t.Run(id, func(t *testing.T) {
			fn := tpl.resource(t, id, "AWS::Serverless::Function")
			roleID := getAtt(fn.Properties["Role"], "Arn")
			role := tpl.resource(t, roleID, "AWS::IAM::Role")

			managed := fmt.Sprint(role.Properties["ManagedPolicyArns"])
			if n := len(role.Properties["ManagedPolicyArns"].([]any)); n != 1 || !strings.Contains(managed, "service-role/AWSLambdaBasicExecutionRole") {
				t.Errorf("ManagedPolicyArns = %s; want only AWSLambdaBasicExecutionRole", managed)
			}

			var got []string
			for _, st := range statements(t, role) {
				if st["Effect"] != "Allow" {
					t.Errorf("statement %v: Effect %v; want Allow", st["Sid"], st["Effect"])
				}
				actions := stringList(st["Action"])
				for _, a := range actions {
					if strings.Contains(a, "*") {
						t.Errorf("statement %v grants wildcard action %s", st["Sid"], a)
					}
				}
				got = append(got, actions...)
				checkResource(t, id, st, actions)
			}

			want := slices.Clone(infraActions[id])
			for _, list := range codeActions[id] {
				want = append(want, list...)
			}
			sort.Strings(got)
			sort.Strings(want)
			got, want = slices.Compact(got), slices.Compact(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s grants %v\nwant %v\n  extra:   %v\n  missing: %v", roleID, got, want, minus(got, want), minus(want, got))
			}

			if slices.Contains(infraActions[id], "sqs:SendMessage") {
				dlq, _ := fn.Properties["DeadLetterQueue"].(map[string]any)
				if getAtt(dlq["TargetArn"], "Arn") == "" {
					t.Errorf("role allows sqs:SendMessage but the function has no DeadLetterQueue")
				}
			}
		})
	}
}

// checkResource keeps resources narrow: "*" only for the diagnose probes
// (the denied bucket or key is not known in advance and they only read),
// and S3 writes only on the bucket allowlist.
func checkResource(t *testing.T, function string, st map[string]any, actions []string) {
	t.Helper()
	res, err := json.Marshal(st["Resource"])
	if err != nil {
		t.Fatal(err)
	}
	if string(res) == `"*"` {
		probesOnly := function == "DiagnoseFunction" && !slices.ContainsFunc(actions, func(a string) bool {
			return !slices.Contains(s3probe.IAMActions, a)
		})
		if !probesOnly {
			t.Errorf("statement %v grants %v on *", st["Sid"], actions)
		}
	}
	writesS3 := slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "s3:Put") })
	if writesS3 && !strings.Contains(string(res), `{"Ref":"BucketAllowlist"}`) {
		t.Errorf("statement %v writes S3 on %s; want only the BucketAllowlist buckets", st["Sid"], res)
	}
}
