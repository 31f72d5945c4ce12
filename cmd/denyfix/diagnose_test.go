package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/mototest"
)

const sampleEvents = "../../events/"

// motoEnv starts moto and points the default AWS configuration at it
// through the environment, exactly as a user would with AWS_ENDPOINT_URL.
func motoEnv(t *testing.T) *s3.Client {
	t.Helper()
	srv := mototest.Start(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
	return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

func TestDiagnoseCommand(t *testing.T) {
	client := motoEnv(t)
	ctx := context.Background()
	bucket := "example-build-artifacts"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOffice","Effect":"Deny","Principal":"*","Action":"s3:*",
	  "Resource":"arn:aws:s3:::example-build-artifacts/*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	event := sampleEvents + "s3-bucket-policy-deny-sourceip.json"

	t.Run("json", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "diagnose", "--format", "json", event)
		if code != exitOK {
			t.Fatalf("exit code: got %d; want %d (stderr %s)", code, exitOK, errOut)
		}
		var got struct {
			ErrorCode string `json:"errorCode"`
			Principal string `json:"principal"`
			Cause     string `json:"cause"`
			Summary   string `json:"summary"`
			Evidence  []struct {
				Name         string   `json:"name"`
				Result       string   `json:"result"`
				Detail       string   `json:"detail"`
				Calls        []string `json:"calls"`
				Sid          string   `json:"sid"`
				ConditionKey string   `json:"conditionKey"`
			} `json:"evidence"`
			Fix *json.RawMessage `json:"fix"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not one JSON object: %v\n%s", err, out)
		}
		if got.Cause != "bucket_policy_deny" || got.ErrorCode != "AccessDenied" || got.Principal != "arn:aws:iam::123456789012:user/ci-deployer" {
			t.Errorf("cause %q errorCode %q principal %q; want bucket_policy_deny, AccessDenied, the ci-deployer user", got.Cause, got.ErrorCode, got.Principal)
		}
		found := false
		for _, c := range got.Evidence {
			if c.Name == "bucket_policy_deny" {
				found = true
				if c.Result != "fail" || c.Sid != "DenyOutsideOffice" || c.ConditionKey != "aws:SourceIp" || len(c.Calls) == 0 {
					t.Errorf("bucket_policy_deny evidence: got %+v; want fail, DenyOutsideOffice, aws:SourceIp, calls", c)
				}
			}
		}
		if !found {
			t.Errorf("no bucket_policy_deny evidence in %s", out)
		}
		if !strings.Contains(out, `"fix":null`) {
			t.Errorf("fix: want null for a Deny (denyfix never removes one); got %s", out)
		}
	})

	t.Run("text", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "diagnose", event)
		if code != exitOK {
			t.Fatalf("exit code: got %d; want %d (stderr %s)", code, exitOK, errOut)
		}
		for _, want := range []string{"[bucket_policy_deny]", "Evidence:", "FAIL bucket_policy_deny", "DenyOutsideOffice", "aws:SourceIp", "[s3:GetBucketPolicy]"} {
			if !strings.Contains(out, want) {
				t.Errorf("text output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("session policy", func(t *testing.T) {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("example-vendor-share")}); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, "", "diagnose", "--format", "json", "--assume-role-event", "../../shared/diagnosis/testdata/assumerole-vendor-jane.json", sampleEvents+"s3-session-policy.json")
		if code != exitOK || !strings.Contains(out, `"cause":"session_policy"`) {
			t.Errorf("exit %d output %s stderr %s; want 0 and session_policy", code, out, errOut)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		raw, err := os.ReadFile(event)
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCLI(t, string(raw), "diagnose", "--format", "json", "-")
		if code != exitOK || !strings.Contains(out, `"cause":"bucket_policy_deny"`) {
			t.Errorf("stdin: exit %d output %s; want 0 and bucket_policy_deny", code, out)
		}
	})
}

func TestDiagnoseUsage(t *testing.T) {
	dir := t.TempDir()
	success := filepath.Join(dir, "success.json")
	if err := os.WriteFile(success, []byte(`{"eventVersion":"1.10","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"e1","userIdentity":{"type":"IAMUser","accountId":"123456789012"},"requestParameters":{"bucketName":"b","key":"k"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no event file", []string{"diagnose"}, exitUsage},
		{"two event files", []string{"diagnose", "a.json", "b.json"}, exitUsage},
		{"unknown format", []string{"diagnose", "--format", "yaml", sampleEvents + "s3-kms.json"}, exitUsage},
		{"unreadable file", []string{"diagnose", filepath.Join(dir, "missing.json")}, exitUsage},
		{"no denial in the input", []string{"diagnose", success}, exitNone},
		{"assume-role file without AssumeRole", []string{"diagnose", "--assume-role-event", success, sampleEvents + "s3-kms.json"}, exitUsage},
		{"unreadable assume-role file", []string{"diagnose", "--assume-role-event", filepath.Join(dir, "missing.json"), sampleEvents + "s3-kms.json"}, exitUsage},
		{"help", []string{"diagnose", "--help"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, errOut := runCLI(t, "", tt.args...); code != tt.want {
				t.Errorf("exit code: got %d; want %d (stderr %s)", code, tt.want, errOut)
			}
		})
	}
}
