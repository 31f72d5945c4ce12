package settings

import (
	"strings"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/fix"
)

func getter(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse(getter(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.ProposalTTL != 72*time.Hour {
		t.Errorf("ProposalTTL = %v; want 72h", s.ProposalTTL)
	}
	if got := s.NotifyThresholds; len(got) != 4 || got[0] != 1 || got[3] != 1000 {
		t.Errorf("NotifyThresholds = %v; want [1 10 100 1000]", got)
	}
	for _, k := range fix.Kinds() {
		if got := s.ModeFor(k); got != ModePropose {
			t.Errorf("ModeFor(%s) = %v; want propose", k, got)
		}
	}
	if s.BucketAllowed("111122223333", "b") {
		t.Error("empty allowlists allowed a bucket")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown mode", map[string]string{"MODE_S3_OBJECT_ACL": "yolo"}, `unknown mode "yolo"`},
		{"auto whitespace fix", map[string]string{"MODE_S3_BUCKET_POLICY_ARN_WHITESPACE": "auto"}, "never applied automatically"},
		{"bad duration", map[string]string{"PROPOSAL_TTL": "3 days"}, "PROPOSAL_TTL"},
		{"negative duration", map[string]string{"PROPOSAL_TTL": "-1h"}, "must be positive"},
		{"bad threshold", map[string]string{"NOTIFY_THRESHOLDS": "1,ten"}, `"ten" is not a positive count`},
		{"descending thresholds", map[string]string{"NOTIFY_THRESHOLDS": "10,1"}, "must ascend"},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(getter(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	s, err := Parse(getter(map[string]string{
		"MODE_S3_ENFORCE_BUCKET_OWNER": "auto",
		"MODE_S3_OBJECT_ACL":           "notify",
		"PROPOSAL_TTL":                 "24h",
		"LOG_LEVEL":                    "debug",
		"BUCKET_ALLOWLIST":             "logs-*, data",
		"ACCOUNT_ALLOWLIST":            "111122223333",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ModeFor(fix.KindS3EnforceBucketOwner); got != ModeAuto {
		t.Errorf("enforce owner mode = %v; want auto", got)
	}
	if got := s.ModeFor(fix.KindS3ObjectACLBucketOwnerFullControl); got != ModeNotify {
		t.Errorf("object ACL mode = %v; want notify", got)
	}
	if got := s.ModeFor(fix.KindNone); got != ModeNotify {
		t.Errorf("none mode = %v; want notify", got)
	}
	if s.ProposalTTL != 24*time.Hour {
		t.Errorf("ProposalTTL = %v; want 24h", s.ProposalTTL)
	}
	for _, tc := range []struct {
		account, bucket string
		want            bool
	}{
		{"111122223333", "logs-eu", true},
		{"111122223333", "data", true},
		{"111122223333", "other", false},
		{"444455556666", "data", false},
		{"", "data", false},
	} {
		if got := s.BucketAllowed(tc.account, tc.bucket); got != tc.want {
			t.Errorf("BucketAllowed(%q, %q) = %v; want %v", tc.account, tc.bucket, got, tc.want)
		}
	}
}

func TestRequire(t *testing.T) {
	s, _ := Parse(getter(map[string]string{"TABLE_NAME": "t"}))
	if err := s.Require(EnvTableName); err != nil {
		t.Errorf("Require(TABLE_NAME) = %v; want nil", err)
	}
	if err := s.Require(EnvTableName, EnvEventBusName, EnvTopicARN); err == nil || !strings.Contains(err.Error(), "EVENT_BUS_NAME, TOPIC_ARN") {
		t.Errorf("Require = %v; want both missing names", err)
	}
}

func TestIgnoreReason(t *testing.T) {
	s, _ := Parse(getter(map[string]string{
		"DENYFIX_ROLE_ARNS": "arn:aws:iam::111122223333:role/service/denyfix-Remediate",
		"IGNORE_PRINCIPALS": "arn:aws:sts::111122223333:assumed-role/ci-*",
	}))
	tests := []struct {
		name string
		arns []string
		want string
	}{
		{"own role session", []string{"arn:aws:sts::111122223333:assumed-role/denyfix-Remediate/1700000000"}, "denyfix role"},
		{"own role issuer", []string{"", "arn:aws:iam::111122223333:role/service/denyfix-Remediate"}, "denyfix role"},
		{"same name other account", []string{"arn:aws:sts::444455556666:assumed-role/denyfix-Remediate/s"}, ""},
		{"ignored wildcard", []string{"arn:aws:sts::111122223333:assumed-role/ci-deploy/build-7"}, "ignored principal"},
		{"someone else", []string{"arn:aws:iam::111122223333:user/alice"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.IgnoreReason(tc.arns...); got != tc.want {
				t.Errorf("IgnoreReason(%v) = %q; want %q", tc.arns, got, tc.want)
			}
		})
	}
}

func TestIsApprover(t *testing.T) {
	s, _ := Parse(getter(map[string]string{"APPROVER_ARNS": "arn:aws:iam::111122223333:role/Approver,arn:aws:iam::111122223333:user/bob,arn:aws:iam::444455556666:role/SecOps*"}))
	for _, tc := range []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::111122223333:user/bob", true},
		{"arn:aws:sts::111122223333:assumed-role/Approver/alice", true},
		{"arn:aws:iam::111122223333:user/mallory", false},
		{"arn:aws:sts::444455556666:assumed-role/SecOpsOnCall/carol", true},
		{"arn:aws:iam::444455556666:role/SecOpsBreakGlass", true},
		{"arn:aws:sts::444455556666:assumed-role/Developer/SecOps", false},
		{"arn:aws:sts::111122223333:assumed-role/SecOpsOnCall/carol", false},
		{"", false},
	} {
		if got := s.IsApprover(tc.arn); got != tc.want {
			t.Errorf("IsApprover(%q) = %v; want %v", tc.arn, got, tc.want)
		}
	}
}
