package denial_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// messageText returns a testdata message without its "# source:" header.
func messageText(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if len(body) == 0 && strings.HasPrefix(line, "#") {
			continue
		}
		body = append(body, line)
	}
	return strings.Join(body, "")
}

// explainFile explains every denial in a testdata file: free text for .txt
// (the header stripped), any CloudTrail shape for .json.
func explainFile(t *testing.T, path string) []denial.Explanation {
	t.Helper()
	if strings.HasSuffix(path, ".txt") {
		e, ok := denial.ExplainText(messageText(t, path))
		if !ok {
			return nil
		}
		return []denial.Explanation{e}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []denial.Explanation
	rd := cloudtrail.NewReader(f)
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if e, ok := denial.Explain(rec); ok {
			out = append(out, e)
		}
	}
}

// TestGolden explains every message and record in testdata and compares the
// JSON with testdata/golden (go test -update rewrites it after review).
func TestGolden(t *testing.T) {
	var inputs []string
	for _, pattern := range []string{"testdata/seeds/*.txt", "testdata/messages/*.txt", "testdata/records/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, m...)
	}
	if len(inputs) < 20 {
		t.Fatalf("found %d testdata inputs; want the seed and real-world cases", len(inputs))
	}
	for _, in := range inputs {
		rel, _ := filepath.Rel("testdata", in)
		t.Run(rel, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			for _, e := range explainFile(t, in) {
				if err := enc.Encode(e); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(rel, filepath.Ext(rel))+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update after reviewing the output)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("explanation differs from %s:\n got %s\nwant %s", golden, got, want)
			}
		})
	}
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// TestExplainRecords pins what comes from the CloudTrail record when the
// message is silent, and which records are not denials at all.
func TestExplainRecords(t *testing.T) {
	tests := []struct {
		file      string
		explained bool
		principal string
		action    string
		resource  string
		account   string
		cause     denial.Cause
		policy    denial.PolicyType
		policyARN string
		step      string // a fragment one of the next steps must hold
	}{
		{
			file: "s3-bare-getobject-event.json", explained: true,
			principal: "arn:aws:sts::444455556666:assumed-role/AnalyticsReader/analytics-job",
			action:    "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket/reports/2026/q3.csv",
			account: "111122223333", cause: denial.CauseUnknown, policyARN: "<null>",
			step: "aws s3api head-object --bucket amzn-s3-demo-bucket --key reports/2026/q3.csv",
		},
		{
			file: "ec2-scp-record.json", explained: true,
			principal: "arn:aws:sts::123456789012:assumed-role/Developer/dev",
			action:    "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/*",
			account: "123456789012", cause: denial.CauseExplicitDeny, policy: denial.PolicySCP,
			policyARN: "arn:aws:organizations::999988887777:policy/o-exampleorg/service_control_policy/p-examplescp",
			step:      "aws sts decode-authorization-message --encoded-message EXAMPLEBLOB0123456789",
		},
		{
			file: "s3-anonymous-record.json", explained: true,
			principal: "anonymous", action: "s3:GetObject", resource: "arn:aws:s3:::public-site/index.html",
			account: "111122223333", cause: denial.CauseUnknown, policyARN: "<null>",
			step: "aws s3api get-public-access-block --bucket public-site",
		},
		{
			file: "s3-presigned-expired-record.json", explained: true,
			principal: "arn:aws:iam::111122223333:user/uploader", action: "s3:GetObject",
			resource: "arn:aws:s3:::shared-files/q3.pdf", account: "111122223333",
			cause: denial.CausePresignedURLExpired, policyARN: "<null>",
			step: "aws s3 presign s3://shared-files/q3.pdf",
		},
		{file: "success-record.json"},
		{file: "nosuchkey-record.json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := explainFile(t, filepath.Join("testdata", "records", tt.file))
			if !tt.explained {
				if len(got) != 0 {
					t.Fatalf("explained %d records; want none (not a denial)", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("explained %d records; want 1", len(got))
			}
			e := got[0]
			for _, c := range []struct{ field, got, want string }{
				{"principal", str(e.Principal), tt.principal},
				{"action", str(e.Action), tt.action},
				{"resource", str(e.Resource), tt.resource},
				{"account", str(e.Account), tt.account},
				{"policyArn", str(e.PolicyARN), tt.policyARN},
				{"cause", e.Cause.String(), tt.cause.String()},
				{"policyType", e.PolicyType.String(), tt.policy.String()},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %q; want %q", c.field, c.got, c.want)
				}
			}
			if !containsStep(e.NextSteps, tt.step) {
				t.Errorf("nextSteps lack %q:\n%s", tt.step, strings.Join(e.NextSteps, "\n"))
			}
			if e.Summary == "" {
				t.Error("summary is empty")
			}
		})
	}
}

func containsStep(steps []string, fragment string) bool {
	for _, s := range steps {
		if strings.Contains(s, fragment) {
			return true
		}
	}
	return false
}

// TestNextStepsPerPolicyType checks that each policy type and deny kind
// leads to its own guidance, as the IAM guide gives it.
func TestNextStepsPerPolicyType(t *testing.T) {
	const who = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories"
	tests := []struct {
		name, suffix, step string
	}{
		{"scp implicit", " because no service control policy allows the codecommit:ListRepositories action", "Add an Allow for codecommit:ListRepositories to an SCP at every level"},
		{"scp explicit", " with an explicit deny in a service control policy", "aws organizations list-policies-for-target --target-id 123456789012 --filter SERVICE_CONTROL_POLICY"},
		{"rcp explicit", " with an explicit deny in a resource control policy", "--filter RESOURCE_CONTROL_POLICY"},
		{"vpce implicit", " because no VPC endpoint policy allows the codecommit:ListRepositories action", "aws ec2 describe-vpc-endpoints"},
		{"boundary implicit", " because no permissions boundary allows the codecommit:ListRepositories action", "aws iam get-user --user-name JohnDoe --query User.PermissionsBoundary"},
		{"session explicit", " with an explicit deny in a session policy", "requestParameters.policy"},
		{"resource implicit", " because no resource-based policy allows the codecommit:ListRepositories action", "Add a statement allowing arn:aws:iam::123456789012:user/JohnDoe"},
		{"trust implicit", " on resource: arn:aws:iam::123456789012:role/Deploy because no role trust policy allows the sts:AssumeRole action", "aws iam get-role --role-name Deploy --query Role.AssumeRolePolicyDocument"},
		{"identity implicit", " because no identity-based policy allows the codecommit:ListRepositories action", "aws iam simulate-principal-policy --policy-source-arn arn:aws:iam::123456789012:user/JohnDoe --action-names codecommit:ListRepositories"},
		{"identity explicit", " with an explicit deny in an identity-based policy", "Find the Deny statement matching codecommit:ListRepositories"},
		{"no type explicit", " with an explicit deny", "in the order AWS evaluates them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := denial.ExplainText(who + tt.suffix)
			if !ok {
				t.Fatal("not explained")
			}
			if !containsStep(e.NextSteps, tt.step) {
				t.Errorf("nextSteps lack %q:\n%s", tt.step, strings.Join(e.NextSteps, "\n"))
			}
		})
	}
}

func TestExplainTextRejectsNonDenials(t *testing.T) {
	for _, text := range []string{
		"",
		"hello world",
		"An error occurred (ThrottlingException) when calling the ListBuckets operation: Rate exceeded",
		"operation error S3: HeadObject, https response error StatusCode: 404, RequestID: X, HostID: Y, api error NotFound: Not Found",
	} {
		if e, ok := denial.ExplainText(text); ok {
			t.Errorf("ExplainText(%q) explained %+v; want no denial", text, e)
		}
	}
}

func FuzzExplainText(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.txt")
	for _, s := range seeds {
		raw, _ := os.ReadFile(s)
		f.Add(string(raw))
	}
	f.Add("User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject on resource: with an explicit deny in a")
	f.Fuzz(func(t *testing.T, text string) {
		e, ok := denial.ExplainText(text)
		if !ok {
			return
		}
		if e.Summary == "" || len(e.NextSteps) == 0 {
			t.Errorf("explained without summary or next steps: %+v", e)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Errorf("marshal: %v", err)
		}
	})
}

// BenchmarkExplain measures a typical message: the IAM guide's explicit
// deny with a resource, and a CLI-wrapped bare S3 message.
func BenchmarkExplain(b *testing.B) {
	for _, bm := range []struct{ name, text string }{
		{"iam-explicit", "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy"},
		{"cli-s3-bare", "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := denial.ExplainText(bm.text); !ok {
					b.Fatal("not explained")
				}
			}
		})
	}
}

func BenchmarkParseMessage(b *testing.B) {
	text := "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC endpoint policy transitively through a service control policy"
	b.ReportAllocs()
	for b.Loop() {
		denial.ParseMessage(text)
	}
}

// TestExpectedTable checks the facts in testdata/messages/EXPECTED.md, one
// row per collected real-world message, against the parser.
func TestExpectedTable(t *testing.T) {
	raw, err := os.ReadFile("testdata/messages/EXPECTED.md")
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	rows := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		if cells[0] == "file" {
			cols = cells
			continue
		}
		rows++
		file := cells[0]
		t.Run(file, func(t *testing.T) {
			got := explainFile(t, filepath.Join("testdata", "messages", file))
			if len(got) != 1 {
				t.Fatalf("explained %d denials; want 1", len(got))
			}
			e := got[0]
			fields := map[string]string{
				"principal": str(e.Principal), "action": str(e.Action), "resource": str(e.Resource),
				"policyType": e.PolicyType.String(), "denyKind": e.DenyKind.String(),
				"via": "<null>", "policyArn": str(e.PolicyARN), "errorCode": str(e.ErrorCode),
			}
			if e.Via != nil {
				fields["via"] = e.Via.String()
			}
			for i, col := range cols {
				got, ok := fields[col]
				if !ok || i >= len(cells) {
					continue
				}
				want := cells[i]
				if want == "—" {
					want = "<null>"
				}
				if got != want {
					t.Errorf("%s: got %q; want %q", col, got, want)
				}
			}
		})
	}
	if rows < 40 {
		t.Errorf("EXPECTED.md rows: got %d; want the collected corpus", rows)
	}
}

// TestActionFromEventName: when the message does not name the action, it
// comes from the event name, which is not always the IAM action's name.
func TestActionFromEventName(t *testing.T) {
	tests := []struct{ source, event, want string }{
		{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
		{"s3.amazonaws.com", "PutBucketEncryption", "s3:PutEncryptionConfiguration"},
		{"s3.amazonaws.com", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
		{"s3.amazonaws.com", "DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"},
		{"s3.amazonaws.com", "HeadObject", "s3:GetObject"},
		{"s3.amazonaws.com", "GetBucketPolicy", "s3:GetBucketPolicy"},
		{"lambda.amazonaws.com", "GetFunction20150331v2", "lambda:GetFunction"},
		{"lambda.amazonaws.com", "AddPermission20150331v2", "lambda:AddPermission"},
		{"lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"},
		{"cloudfront.amazonaws.com", "CreateInvalidation2020_05_31", "cloudfront:CreateInvalidation"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			e, ok := denial.Explain(cloudtrail.Record{EventSource: tt.source, EventName: tt.event, ErrorCode: "AccessDenied", ErrorMessage: "Access Denied"})
			if !ok {
				t.Fatal("not explained")
			}
			if got := str(e.Action); got != tt.want {
				t.Errorf("action: got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestDescribeRebuildsTheProse: an explanation stripped of its summary and
// next steps gets them back, identical, from Describe.
func TestDescribeRebuildsTheProse(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*/*.txt")
	records, _ := filepath.Glob("testdata/records/*.json")
	for _, in := range append(inputs, records...) {
		for _, e := range explainFile(t, in) {
			lean := e
			lean.Summary, lean.NextSteps = "", nil
			if strings.HasSuffix(in, ".json") {
				if !containsFacts(t, in, lean) {
					t.Errorf("%s: ExplainFacts differs from Explain without its prose", in)
				}
			}
			denial.Describe(&lean)
			if lean.Summary != e.Summary || strings.Join(lean.NextSteps, "\n") != strings.Join(e.NextSteps, "\n") {
				t.Errorf("%s: Describe gave\n%q\n%q\nwant\n%q\n%q", in, lean.Summary, lean.NextSteps, e.Summary, e.NextSteps)
			}
		}
	}
}

// containsFacts reports whether ExplainFacts gives, for some record of the
// file, exactly the explanation lean (Explain's without prose).
func containsFacts(t *testing.T, path string, lean denial.Explanation) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, _ := json.Marshal(lean)
	rd := cloudtrail.NewReader(f)
	for {
		rec, err := rd.Next()
		if err != nil {
			return false
		}
		if e, ok := denial.ExplainFacts(rec); ok {
			if got, _ := json.Marshal(e); string(got) == string(want) {
				return true
			}
		}
	}
}
