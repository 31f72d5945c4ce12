package policy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/policy"
)

func readPolicy(t *testing.T, name string) ([]byte, policy.Document) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return raw, doc
}

func TestParseForms(t *testing.T) {
	_, single := readPolicy(t, "vpce-single-bucket.json")
	if got := len(single.Statements); got != 1 {
		t.Fatalf("single statement object: got %d statements; want 1", got)
	}
	if s := single.Statements[0]; !s.Principal.Any || len(s.Action) != 2 || len(s.Resource) != 2 {
		t.Errorf("statement: got principal any=%v actions %v resources %v; want *, 2, 2", s.Principal.Any, s.Action, s.Resource)
	}
	_, ws := readPolicy(t, "guide-whitespace.json")
	if got := ws.Statements[0].Principal.ByType["AWS"]; len(got) != 2 {
		t.Errorf("AWS principals: got %v; want 2", got)
	}
	if got := ws.Statements[1].Condition["Null"]["s3:x-amz-server-side-encryption"]; len(got) != 1 || got[0] != "true" {
		t.Errorf("boolean condition value: got %v; want [true]", got)
	}
	for _, bad := range []string{`{"Statement": [`, `{"Version":"2012-10-17"}`, `{"Statement":{"Effect":"Allow","Principal":"someone"}}`, `{"Statement":{"Effect":"Allow","Action":{"a":1}}}`} {
		if _, err := policy.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s): got nil error; want one", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		fold, want     bool
	}{
		{"s3:Get*", "s3:GetObject", true, true},
		{"S3:getobject", "s3:GetObject", true, true},
		{"s3:Get?bject", "s3:GetObject", true, true},
		{"s3:Put*", "s3:GetObject", true, false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b c", false, true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false, false},
		{"arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", false, false},
		{"arn:aws:s3::: bucket/*", "arn:aws:s3:::bucket/x", false, false},
		{"*", "", false, true},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
	}
	for _, tt := range tests {
		if got := policy.Match(tt.pattern, tt.value, tt.fold); got != tt.want {
			t.Errorf("Match(%q, %q, %v): got %v; want %v", tt.pattern, tt.value, tt.fold, got, tt.want)
		}
	}
}

// record is a CloudTrail record of an assumed-role GetObject from outside
// any VPC endpoint, over TLS, without MFA.
func record(t *testing.T, mutate func(map[string]any)) cloudtrail.Record {
	t.Helper()
	m := map[string]any{
		"eventVersion":    "1.10",
		"eventID":         "6f1c2e6a-0000-4000-8000-000000000001",
		"eventTime":       "2026-11-21T14:22:07Z",
		"eventSource":     "s3.amazonaws.com",
		"eventName":       "GetObject",
		"awsRegion":       "us-east-1",
		"sourceIPAddress": "198.51.100.24",
		"userIdentity": map[string]any{
			"type": "AssumedRole", "principalId": "AROAEXAMPLE:worker", "arn": "arn:aws:sts::123456789012:assumed-role/Worker/worker",
			"accountId": "123456789012",
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{"type": "Role", "arn": "arn:aws:iam::123456789012:role/Worker", "accountId": "123456789012"},
				"attributes":    map[string]any{"creationDate": "2026-11-21T14:00:00Z", "mfaAuthenticated": "false"},
			},
		},
		"requestParameters": map[string]any{"bucketName": "DOC-EXAMPLE-BUCKET", "key": "a.txt"},
		"tlsDetails":        map[string]any{"tlsVersion": "TLSv1.3"},
	}
	if mutate != nil {
		mutate(m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cloudtrail.DecodeRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestRequestFromRecord(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(map[string]any)
		key    string
		state  policy.KeyState
		value  string
	}{
		{"role session principal is the role", nil, "aws:PrincipalArn", policy.KeyPresent, "arn:aws:iam::123456789012:role/Worker"},
		{"source ip outside an endpoint", nil, "aws:SourceIp", policy.KeyPresent, "198.51.100.24"},
		{"no endpoint means no aws:SourceVpce", nil, "aws:SourceVpce", policy.KeyAbsent, ""},
		{"endpoint recorded", func(m map[string]any) { m["vpcEndpointId"] = "vpce-1a2b3c4d" }, "aws:SourceVpce", policy.KeyPresent, "vpce-1a2b3c4d"},
		{"through an endpoint aws:SourceIp is absent", func(m map[string]any) { m["vpcEndpointId"] = "vpce-1a2b3c4d" }, "aws:SourceIp", policy.KeyAbsent, ""},
		{"aws:SourceVpc is not in CloudTrail", func(m map[string]any) { m["vpcEndpointId"] = "vpce-1a2b3c4d" }, "aws:SourceVpc", policy.KeyUnknown, ""},
		{"mfa flag from the session", nil, "aws:MultiFactorAuthPresent", policy.KeyPresent, "false"},
		{"mfa age when mfa was used", func(m map[string]any) {
			m["userIdentity"].(map[string]any)["sessionContext"].(map[string]any)["attributes"].(map[string]any)["mfaAuthenticated"] = "true"
		}, "aws:MultiFactorAuthAge", policy.KeyPresent, "1327"},
		{"long-term keys carry no mfa key", func(m map[string]any) {
			m["userIdentity"] = map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/ci", "accountId": "123456789012", "accessKeyId": "AKIAEXAMPLE", "userName": "ci"}
		}, "aws:MultiFactorAuthPresent", policy.KeyAbsent, ""},
		{"tls details mean https", nil, "aws:SecureTransport", policy.KeyPresent, "true"},
		{"no tls details in 1.08+ mean http", func(m map[string]any) { delete(m, "tlsDetails") }, "aws:SecureTransport", policy.KeyPresent, "false"},
		{"no tls details before 1.08 say nothing", func(m map[string]any) { delete(m, "tlsDetails"); m["eventVersion"] = "1.05" }, "aws:SecureTransport", policy.KeyUnknown, ""},
		{"no tls details on a call an AWS service made say nothing", func(m map[string]any) {
			delete(m, "tlsDetails")
			m["sourceIPAddress"] = "athena.amazonaws.com"
			m["userIdentity"].(map[string]any)["invokedBy"] = "athena.amazonaws.com"
		}, "aws:SecureTransport", policy.KeyUnknown, ""},
		{"no tls details from an AWS internal address say nothing", func(m map[string]any) {
			delete(m, "tlsDetails")
			m["sourceIPAddress"] = "AWS Internal"
		}, "aws:SecureTransport", policy.KeyUnknown, ""},
		{"no tls details outside S3 say nothing", func(m map[string]any) {
			delete(m, "tlsDetails")
			m["eventSource"] = "kms.amazonaws.com"
		}, "aws:SecureTransport", policy.KeyUnknown, ""},
		{"encryption header sent", func(m map[string]any) {
			m["requestParameters"].(map[string]any)["x-amz-server-side-encryption"] = "aws:kms"
		}, "s3:x-amz-server-side-encryption", policy.KeyPresent, "aws:kms"},
		{"encryption header not sent", nil, "s3:x-amz-server-side-encryption", policy.KeyAbsent, ""},
		{"anonymous caller has no principal", func(m map[string]any) {
			m["userIdentity"] = map[string]any{"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
		}, "aws:PrincipalArn", policy.KeyAbsent, ""},
		{"principal tags are not in CloudTrail", nil, "aws:PrincipalTag/team", policy.KeyUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := policy.RequestFromRecord(record(t, tt.mutate), "s3:GetObject", nil)
			got, state := req.Lookup(tt.key)
			if state != tt.state {
				t.Fatalf("%s state: got %v; want %v (values %v)", tt.key, state, tt.state, got)
			}
			if tt.value != "" && (len(got) != 1 || got[0] != tt.value) {
				t.Errorf("%s: got %v; want [%s]", tt.key, got, tt.value)
			}
		})
	}
}

// TestConditionOperators evaluates one statement per operator against a
// request whose context is fixed.
func TestConditionOperators(t *testing.T) {
	req := policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::b/k"}, PrincipalARN: "arn:aws:iam::123456789012:role/Worker", PrincipalAccount: "123456789012"}
	req.Set("aws:SourceIp", "198.51.100.24")
	req.Set("aws:SourceVpce", "vpce-2222")
	req.Set("aws:SecureTransport", "true")
	req.Set("aws:MultiFactorAuthAge", "4000")
	req.Set("aws:CurrentTime", "2026-11-21T14:22:07Z")
	req.Set("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Worker")
	req.Set("aws:userid", "AROAEXAMPLE:worker")
	req.Set("aws:username", "ci")
	req.Set("aws:TagKeys", "team", "env")
	req.Set("aws:SourceArn", "arn:aws:s3:::b/k:123456789012:z")
	req.SetAbsent("aws:MultiFactorAuthPresent")
	req.SetAbsent("s3:x-amz-server-side-encryption")
	tests := []struct {
		op, key string
		values  []string
		want    policy.Outcome
	}{
		{"StringEquals", "aws:SourceVpce", []string{"vpce-1111", "vpce-2222"}, policy.Matches},
		{"StringEquals", "aws:SourceVpce", []string{"VPCE-2222"}, policy.NoMatch},
		{"StringEqualsIgnoreCase", "aws:SourceVpce", []string{"VPCE-2222"}, policy.Matches},
		{"StringNotEquals", "aws:SourceVpce", []string{"vpce-1111"}, policy.Matches},
		{"StringNotEquals", "aws:SourceVpce", []string{"vpce-2222"}, policy.NoMatch},
		{"StringLike", "aws:userid", []string{"AROAEXAMPLE:*"}, policy.Matches},
		{"StringNotLike", "aws:userid", []string{"AROAOTHER:*"}, policy.Matches},
		{"StringEquals", "aws:SourceVpc", []string{"vpc-1"}, policy.NotEvaluable},
		{"StringNotEquals", "s3:x-amz-server-side-encryption", []string{"aws:kms"}, policy.Matches},
		{"StringEquals", "s3:x-amz-server-side-encryption", []string{"aws:kms"}, policy.NoMatch},
		{"StringEqualsIfExists", "s3:x-amz-server-side-encryption", []string{"aws:kms"}, policy.Matches},
		{"Null", "s3:x-amz-server-side-encryption", []string{"true"}, policy.Matches},
		{"Null", "aws:SourceIp", []string{"true"}, policy.NoMatch},
		{"Null", "aws:SourceVpc", []string{"true"}, policy.NotEvaluable},
		{"Bool", "aws:SecureTransport", []string{"false"}, policy.NoMatch},
		{"Bool", "aws:SecureTransport", []string{"true"}, policy.Matches},
		{"Bool", "aws:MultiFactorAuthPresent", []string{"false"}, policy.NoMatch},
		{"BoolIfExists", "aws:MultiFactorAuthPresent", []string{"false"}, policy.Matches},
		{"IpAddress", "aws:SourceIp", []string{"198.51.100.0/24"}, policy.Matches},
		{"IpAddress", "aws:SourceIp", []string{"198.51.100.24"}, policy.Matches},
		{"NotIpAddress", "aws:SourceIp", []string{"203.0.113.0/24", "2001:db8::/32"}, policy.Matches},
		{"NotIpAddress", "aws:SourceIp", []string{"198.51.0.0/16"}, policy.NoMatch},
		{"IpAddress", "aws:SourceIp", []string{"not-a-cidr/8"}, policy.NotEvaluable},
		{"ArnLike", "aws:PrincipalArn", []string{"arn:aws:iam::123456789012:role/*"}, policy.Matches},
		{"ArnEquals", "aws:PrincipalArn", []string{"arn:aws:iam::123456789012:role/Worker"}, policy.Matches},
		{"ArnNotLike", "aws:PrincipalArn", []string{"arn:aws:iam::*:role/Admin*"}, policy.Matches},
		{"ArnNotEquals", "aws:PrincipalArn", []string{"arn:aws:iam::123456789012:role/Worker"}, policy.NoMatch},
		// ARN operators match each of the six parts on its own: the account
		// wildcard pattern must not match an S3 key that holds the account.
		{"ArnLike", "aws:SourceArn", []string{"arn:aws:*:*:123456789012:*"}, policy.NoMatch},
		{"StringLike", "aws:SourceArn", []string{"arn:aws:*:*:123456789012:*"}, policy.Matches},
		{"ArnLike", "aws:SourceArn", []string{"arn:aws:s3:::b/*"}, policy.Matches},
		{"ArnLike", "aws:SourceArn", []string{"*"}, policy.Matches},
		{"NumericLessThan", "aws:MultiFactorAuthAge", []string{"3600"}, policy.NoMatch},
		{"NumericGreaterThan", "aws:MultiFactorAuthAge", []string{"3600"}, policy.Matches},
		{"NumericLessThanEquals", "aws:MultiFactorAuthAge", []string{"4000"}, policy.Matches},
		{"NumericNotEquals", "aws:MultiFactorAuthAge", []string{"4000"}, policy.NoMatch},
		{"DateGreaterThan", "aws:CurrentTime", []string{"2026-01-01T00:00:00Z"}, policy.Matches},
		{"DateLessThan", "aws:CurrentTime", []string{"2026-01-01T00:00:00Z"}, policy.NoMatch},
		{"DateLessThan", "aws:CurrentTime", []string{"1893456000"}, policy.Matches},
		{"ForAnyValue:StringEquals", "aws:TagKeys", []string{"env"}, policy.Matches},
		{"ForAllValues:StringEquals", "aws:TagKeys", []string{"env"}, policy.NoMatch},
		{"ForAllValues:StringEquals", "aws:TagKeys", []string{"env", "team", "owner"}, policy.Matches},
		{"ForAllValues:StringEquals", "s3:x-amz-server-side-encryption", []string{"x"}, policy.Matches},
		{"ForAnyValue:StringEquals", "s3:x-amz-server-side-encryption", []string{"x"}, policy.NoMatch},
		{"StringEquals", "aws:userid", []string{"AROAEXAMPLE:${aws:username}"}, policy.NoMatch},
		{"StringLike", "aws:PrincipalArn", []string{"arn:aws:iam::123456789012:role/${aws:PrincipalTag/team}"}, policy.NotEvaluable},
		{"StringEqualsSometimes", "aws:SourceIp", []string{"x"}, policy.NotEvaluable},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.key+" "+strings.Join(tt.values, ","), func(t *testing.T) {
			st := policy.Statement{Sid: "S", Effect: "Deny", Action: policy.List{"s3:*"}, Resource: policy.List{"*"},
				Condition: map[string]map[string]policy.List{tt.op: {tt.key: tt.values}}}
			r := policy.EvaluateStatement(0, st, req)
			if r.Outcome != tt.want {
				t.Fatalf("got %v (%s); want %v", r.Outcome, r.Reason, tt.want)
			}
			if r.Outcome != policy.Matches && r.Key() != tt.key {
				t.Errorf("deciding key: got %q; want %q", r.Key(), tt.key)
			}
		})
	}
}

func TestEvaluateElements(t *testing.T) {
	req := policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/a.txt"},
		PrincipalARN: "arn:aws:iam::111122223333:role/Reader", PrincipalAccount: "111122223333"}
	tests := []struct {
		name string
		st   string
		want policy.Outcome
	}{
		{"NotAction excludes the action", `{"Effect":"Deny","Principal":"*","NotAction":"s3:Get*","Resource":"*"}`, policy.NoMatch},
		{"NotAction covers others", `{"Effect":"Deny","Principal":"*","NotAction":"s3:Put*","Resource":"*"}`, policy.Matches},
		{"NotResource excludes the object", `{"Effect":"Deny","Principal":"*","Action":"*","NotResource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}`, policy.NoMatch},
		{"bucket ARN does not cover objects", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"}`, policy.NoMatch},
		{"account principal covers its roles", `{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}`, policy.Matches},
		{"root principal covers its roles", `{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"s3:GetObject","Resource":"*"}`, policy.Matches},
		{"other role", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Writer"},"Action":"s3:GetObject","Resource":"*"}`, policy.NoMatch},
		{"service principal", `{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}`, policy.NoMatch},
		{"NotPrincipal excludes the caller", `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/Reader"},"Action":"*","Resource":"*"}`, policy.NoMatch},
		{"NotPrincipal covers others", `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"*","Resource":"*"}`, policy.Matches},
		{"unknown key makes a Deny not evaluable", `{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}`, policy.NotEvaluable},
		{"a failing part wins over an unknown one", `{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1","aws:PrincipalAccount":"222222222222"}}}`, policy.NoMatch},
	}
	req.Set("aws:PrincipalAccount", "111122223333")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := policy.Parse([]byte(`{"Statement":` + tt.st + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := policy.Evaluate(doc, req)[0]; got.Outcome != tt.want {
				t.Errorf("got %v (%s); want %v", got.Outcome, got.Reason, tt.want)
			}
		})
	}
}

func TestGuideDenyVpce(t *testing.T) {
	_, doc := readPolicy(t, "guide-deny-vpce.json")
	for _, tt := range []struct {
		vpce string
		want policy.Outcome
	}{{"vpce-1a2b3c4d", policy.NoMatch}, {"vpce-ffffffff", policy.Matches}, {"", policy.Matches}} {
		rec := record(t, func(m map[string]any) {
			if tt.vpce != "" {
				m["vpcEndpointId"] = tt.vpce
			}
		})
		req := policy.RequestFromRecord(rec, "s3:GetObject", []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/a.txt"})
		r := policy.Evaluate(doc, req)[0]
		if r.Outcome != tt.want || r.Outcome == policy.Matches && r.Key() != "aws:SourceVpce" {
			t.Errorf("endpoint %q: got %v key %q; want %v key aws:SourceVpce", tt.vpce, r.Outcome, r.Key(), tt.want)
		}
	}
}

func TestLintAndRemoveWhitespace(t *testing.T) {
	raw, doc := readPolicy(t, "guide-whitespace.json")
	problems := policy.Lint(doc)
	var kinds []string
	for _, p := range problems {
		kinds = append(kinds, p.Kind.String()+":"+p.Element+":"+p.Corrected)
	}
	want := []string{"arn_whitespace:Resource:arn:aws:s3:::DOC-EXAMPLE-BUCKET/*", "arn_whitespace:Principal:arn:aws:iam::444455556666:role/Reader"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("problems: got %v; want %v", kinds, want)
	}
	fixed, changed := policy.RemoveARNWhitespace(raw, doc)
	if !changed {
		t.Fatal("RemoveARNWhitespace: nothing changed")
	}
	after, err := policy.Parse(fixed)
	if err != nil {
		t.Fatalf("corrected policy does not parse: %v", err)
	}
	if got := policy.Lint(after); len(got) != 0 {
		t.Errorf("corrected policy still has problems: %+v", got)
	}
	if len(after.Statements) != 2 || !after.Statements[1].IsDeny() || after.Statements[1].Condition["Null"] == nil {
		t.Errorf("the Deny statement must survive unchanged; got %+v", after.Statements)
	}
	if strings.Count(string(raw), "\n") != strings.Count(string(fixed), "\n") {
		t.Errorf("layout changed: %d lines; want %d", strings.Count(string(fixed), "\n"), strings.Count(string(raw), "\n"))
	}
	if _, changed := policy.RemoveARNWhitespace(fixed, after); changed {
		t.Error("a clean policy was changed")
	}
}

func TestLintBucketVersusObject(t *testing.T) {
	tests := []struct {
		st   string
		want int
	}{
		{`{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"}`, 1},
		{`{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"}`, 1},
		{`{"Sid":"C","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}`, 0},
		{`{"Sid":"D","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}`, 0},
		{`{"Sid":"E","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:b"}`, 1},
	}
	for _, tt := range tests {
		doc, err := policy.Parse([]byte(`{"Statement":` + tt.st + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := policy.Lint(doc); len(got) != tt.want {
			t.Errorf("%s: got %d problems %+v; want %d", tt.st, len(got), got, tt.want)
		}
	}
}

// TestLintKeepsSpacesInObjectKeys: an S3 object key may hold spaces, so an
// ARN whose only whitespace is inside its key is correct as written.
func TestLintKeepsSpacesInObjectKeys(t *testing.T) {
	doc, err := policy.Parse([]byte(`{"Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/Reader"},"Action":"s3:GetObject","Resource":["arn:aws:s3:::acme-data/Quarterly Report.pdf","arn:aws:s3::: acme-data/my dir/*"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range policy.Lint(doc) {
		got = append(got, p.Kind.String()+":"+p.Corrected)
	}
	want := []string{"arn_whitespace:arn:aws:s3:::acme-data/my dir/*"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems: got %q; want %q", got, want)
	}
}

// TestRemoveWhitespaceNeverWidens: correcting a Deny's NotResource or
// NotPrincipal would exempt what it names, and correcting an Allow to
// everyone would grant the public more; neither is ever corrected, not even
// through the same literal elsewhere in the policy.
func TestRemoveWhitespaceNeverWidens(t *testing.T) {
	raw := []byte(`{"Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/Reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: acme-data/*"},
		{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3::: acme-data/*"},
		{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:role/ Admin"},"Action":"s3:*","Resource":"arn:aws:s3:::acme-secret/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3::: acme-public/*"},
		{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3::: acme-logs/*"}]}`)
	doc, err := policy.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	fixed, changed := policy.RemoveARNWhitespace(raw, doc)
	if !changed {
		t.Fatal("the Deny's Resource (which only makes the Deny match more) was not corrected")
	}
	for _, keep := range []string{`"NotResource":"arn:aws:s3::: acme-data/*"`, `role/ Admin`, `"arn:aws:s3::: acme-public/*"`, `"Resource":"arn:aws:s3::: acme-data/*"`} {
		if !strings.Contains(string(fixed), keep) {
			t.Errorf("%s was changed; it must stay as written:\n%s", keep, fixed)
		}
	}
	if !strings.Contains(string(fixed), `"arn:aws:s3:::acme-logs/*"`) {
		t.Errorf("the Deny's Resource was not corrected:\n%s", fixed)
	}
}
