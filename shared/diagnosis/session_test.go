package diagnosis_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/s3probe"
)

func assumeRoleRecord(t *testing.T, mutate func(params map[string]any)) cloudtrail.Record {
	t.Helper()
	raw, err := os.ReadFile("testdata/assumerole-vendor-jane.json")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cloudtrail.DecodeRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		var params map[string]any
		if err := json.Unmarshal(rec.RequestParameters, &params); err != nil {
			t.Fatal(err)
		}
		mutate(params)
		if rec.RequestParameters, err = json.Marshal(params); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

// TestDiagnoseSessionPolicy diagnoses s3-session-policy.json against moto
// with the AssumeRole record of its session: the session policy grants
// only the vendor's inbox prefix.
func TestDiagnoseSessionPolicy(t *testing.T) {
	srv := mototest.Start(t)
	c := newClients(srv.Config(), srv.URL)
	rec := loadEvent(t, "s3-session-policy.json")
	build(t, c, "s3-session-policy.json", &rec)

	d, ok := c.runner().DiagnoseSession(ctx, rec, new(assumeRoleRecord(t, nil)))
	if !ok {
		t.Fatal("not a denial")
	}
	assertDiagnosis(t, d, scenario{cause: denial.CauseSessionPolicy, failing: diagnosis.CheckSessionPolicy})

	d, _ = c.runner().Diagnose(ctx, rec)
	if d.Cause != denial.CauseUnknown {
		t.Errorf("without the AssumeRole record: got %v; want unknown (nothing else is wrong)", d.Cause)
	}
}

func TestSessionPolicyCheck(t *testing.T) {
	target, _ := s3probe.NewTarget(loadEvent(t, "s3-session-policy.json"))
	tests := []struct {
		name   string
		mutate func(params map[string]any)
		other  *cloudtrail.Record
		want   s3probe.Result
		detail string
	}{
		{"policy misses the prefix", nil, nil, s3probe.ResultFail, "allows nothing that covers s3:GetObject"},
		{"policy allows the prefix", func(p map[string]any) {
			p["policy"] = `{"Statement":{"Sid":"All","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::example-vendor-share/*"}}`
		}, nil, s3probe.ResultPass, `"All" allows`},
		{"policy denies", func(p map[string]any) {
			p["policy"] = `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoDelivery","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::example-vendor-share/delivery/*"}]}`
		}, nil, s3probe.ResultFail, `"NoDelivery" denies`},
		{"no session policy", func(p map[string]any) { delete(p, "policy") }, nil, s3probe.ResultPass, "without a session policy"},
		{"managed session policies only", func(p map[string]any) {
			delete(p, "policy")
			p["policyArns"] = []map[string]string{{"arn": "arn:aws:iam::123456789012:policy/VendorScope"}}
		}, nil, s3probe.ResultUnknown, "arn:aws:iam::123456789012:policy/VendorScope"},
		{"another session's record", nil, &cloudtrail.Record{EventName: "AssumeRole", ResponseElements: json.RawMessage(`{"credentials":{"accessKeyId":"ASIAOTHERSESSION0001"}}`)}, s3probe.ResultUnknown, "ASIAOTHERSESSION0001"},
		{"not an AssumeRole record", nil, &cloudtrail.Record{EventName: "GetObject"}, s3probe.ResultUnknown, "not an AssumeRole call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := assumeRoleRecord(t, tt.mutate)
			if tt.other != nil {
				rec = *tt.other
			}
			c := diagnosis.SessionPolicyCheck(rec, target)
			if c.Result != tt.want || !strings.Contains(c.Detail, tt.detail) {
				t.Errorf("got %v %q; want %v containing %q", c.Result, c.Detail, tt.want, tt.detail)
			}
		})
	}
}
