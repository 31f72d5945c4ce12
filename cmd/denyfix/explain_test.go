package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs denyfix in-process with the given stdin and arguments.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), stdio{in: strings.NewReader(stdin), out: &out, err: &errOut}, args)
	return code, out.String(), errOut.String()
}

const records = "../../shared/denial/testdata/records/"

func TestExplainCommand(t *testing.T) {
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		lines      int    // JSON objects on stdout, for --format json
		stdout     string // a fragment stdout must hold
		stderrLine bool   // stderr is exactly one line
	}{
		{name: "message as json", args: []string{"explain", "--format", "json", "--message", "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sagemaker:ListModels with an explicit deny in a permissions boundary"}, code: 0, lines: 1, stdout: `"policyType":"permissions_boundary"`},
		{name: "message as text", args: []string{"explain", "--message", "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"}, code: 0, stdout: "Next steps:"},
		{name: "event file", args: []string{"explain", "--format", "json", records + "s3-bare-getobject-event.json"}, code: 0, lines: 1, stdout: `"principal":"arn:aws:sts::444455556666:assumed-role/AnalyticsReader/analytics-job"`},
		{name: "several files", args: []string{"explain", "--format", "json", records + "ec2-scp-record.json", records + "success-record.json", records + "s3-anonymous-record.json"}, code: 0, lines: 2, stdout: `"cause":"explicit_deny"`},
		{name: "stdin text", stdin: "User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:ListRoles", args: []string{"explain", "-"}, code: 0, stdout: "iam:ListRoles"},
		{name: "no denial in records", args: []string{"explain", records + "success-record.json"}, code: 1, stderrLine: true},
		{name: "text without denial", stdin: "all good here", args: []string{"explain"}, code: 1, stderrLine: true},
		{name: "empty input", stdin: "", args: []string{"explain"}, code: 2, stderrLine: true},
		{name: "binary input", stdin: "\x00\x01\x02", args: []string{"explain"}, code: 2, stderrLine: true},
		{name: "truncated JSON", stdin: `{"Records":[{"eventName":"GetObject"`, args: []string{"explain"}, code: 2, stderrLine: true},
		{name: "missing file", args: []string{"explain", "/nonexistent/event.json"}, code: 2, stderrLine: true},
		{name: "bad format", args: []string{"explain", "--format", "xml", "--message", "x"}, code: 2, stderrLine: true},
		{name: "message and file", args: []string{"explain", "--message", "x", "file.json"}, code: 2, stderrLine: true},
		{name: "help", args: []string{"explain", "--help"}, code: 0},
		{name: "unknown command", args: []string{"explian"}, code: 2, stderrLine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code: got %d; want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			if tt.lines > 0 {
				var n int
				dec := json.NewDecoder(strings.NewReader(stdout))
				for dec.More() {
					var v map[string]any
					if err := dec.Decode(&v); err != nil {
						t.Fatalf("stdout is not JSON lines: %v", err)
					}
					n++
				}
				if n != tt.lines || strings.Count(stdout, "\n") != tt.lines {
					t.Errorf("JSON objects: got %d on %d lines; want %d, one per line", n, strings.Count(stdout, "\n"), tt.lines)
				}
			}
			if tt.stderrLine && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr: got %q; want one line", stderr)
			}
			if tt.stderrLine && stderr == "" {
				t.Error("stderr is empty; want a one-line reason")
			}
		})
	}
}

// TestExplainJSONFields checks the JSON object carries exactly the contract's
// fields, nulls included.
func TestExplainJSONFields(t *testing.T) {
	_, stdout, _ := runCLI(t, "", "explain", "--format", "json", "--message", "Access Denied")
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	want := []string{"errorCode", "errorMessage", "eventId", "eventTime", "account", "region", "service", "eventName", "principal", "action", "resource", "policyType", "denyKind", "via", "policyArn", "cause", "summary", "nextSteps"}
	if len(v) != len(want) {
		t.Errorf("fields: got %d; want %d", len(v), len(want))
	}
	for _, f := range want {
		if _, ok := v[f]; !ok {
			t.Errorf("field %q missing", f)
		}
	}
	if got := string(v["principal"]); got != "null" {
		t.Errorf("principal: got %s; want null", got)
	}
}
