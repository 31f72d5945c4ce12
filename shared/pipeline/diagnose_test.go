package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

func testSettings(t *testing.T, env map[string]string) settings.Settings {
	t.Helper()
	base := map[string]string{
		"DENYFIX_ROLE_ARNS": "arn:aws:iam::111122223333:role/denyfix-DiagnoseRole-3FJ2K8L1M0QZ",
		"IGNORE_PRINCIPALS": "arn:aws:sts::111122223333:assumed-role/ci-*",
		"BUCKET_ALLOWLIST":  "amzn-s3-demo-bucket",
		"ACCOUNT_ALLOWLIST": "111122223333",
	}
	for k, v := range env {
		base[k] = v
	}
	s, err := settings.Parse(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withFix diagnoses from the message and adds an ownership fix on bucket.
func withFix(bucket string) DiagnoseFunc {
	return func(ctx context.Context, rec cloudtrail.Record) (Diagnosis, error) {
		d, err := ExplainOnly(ctx, rec)
		d.Fix = &fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: "111122223333", Bucket: bucket}
		return d, err
	}
}

func TestDiagnoserOutcomes(t *testing.T) {
	denialEvent := readTestdata(t, "denial-kms-decrypt-key-policy.json")
	ciEvent := strings.ReplaceAll(string(denialEvent), "assumed-role/ReportWorker/", "assumed-role/ci-deploy/")
	tests := []struct {
		name        string
		raw         string
		diagnose    DiagnoseFunc
		env         map[string]string
		storeErr    error
		busErr      error
		wantOutcome Outcome
		wantErr     bool
		wantEvents  []string
		wantRecords int
	}{
		{"denial recorded and announced", string(denialEvent), ExplainOnly, nil, nil, nil, OutcomeRecorded, false, []string{"Denial Diagnosed"}, 1},
		{"malformed JSON dropped", `{"id":"x","detail-type":`, ExplainOnly, nil, nil, nil, OutcomeDropped, false, nil, 0},
		{"other detail-type dropped", `{"id":"x","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`, ExplainOnly, nil, nil, nil, OutcomeDropped, false, nil, 0},
		{"own role ignored", string(readTestdata(t, "denial-kms-getkeypolicy-denyfix-own-role.json")), ExplainOnly, nil, nil, nil, OutcomeIgnoredSelf, false, nil, 0},
		{"ignored principal", ciEvent, ExplainOnly, nil, nil, nil, OutcomeIgnoredPrincipal, false, nil, 0},
		{"not a denial code", string(readTestdata(t, "ignored-s3-getobject-nosuchkey.json")), ExplainOnly, nil, nil, nil, OutcomeIgnoredNoDenial, false, nil, 0},
		{"fix proposed", string(denialEvent), withFix("amzn-s3-demo-bucket"), nil, nil, nil, OutcomeProposed, false, []string{"Denial Diagnosed", "Fix Proposed"}, 1},
		{"fix in notify mode", string(denialEvent), withFix("amzn-s3-demo-bucket"), map[string]string{"MODE_S3_ENFORCE_BUCKET_OWNER": "notify"}, nil, nil, OutcomeRecorded, false, []string{"Denial Diagnosed"}, 1},
		{"fix outside allowlist", string(denialEvent), withFix("someone-elses-bucket"), nil, nil, nil, OutcomeRecorded, false, []string{"Denial Diagnosed"}, 1},
		{"store failure retried", string(denialEvent), ExplainOnly, nil, errors.New("ProvisionedThroughputExceededException"), nil, OutcomeRetry, true, nil, 0},
		{"bus failure retried", string(denialEvent), ExplainOnly, nil, nil, errors.New("ThrottlingException"), OutcomeRetry, true, nil, 1},
		{"panic contained", string(denialEvent), func(context.Context, cloudtrail.Record) (Diagnosis, error) { panic("bug") }, nil, nil, nil, OutcomeInternal, false, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, b, logs := newMemStore(), &fakeBus{err: tc.busErr}, &logSink{}
			store.err = tc.storeErr
			d := &Diagnoser{Settings: testSettings(t, tc.env), Diagnose: tc.diagnose, Store: store, Bus: b, Log: logs.logger()}
			err := d.Handle(context.Background(), json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Handle error = %v; want error %v", err, tc.wantErr)
			}
			line := logs.only(t)
			if got := line["outcome"]; got != string(tc.wantOutcome) {
				t.Errorf("outcome = %v; want %s (line %v)", got, tc.wantOutcome, line)
			}
			if _, ok := line["eventId"]; !ok {
				t.Errorf("log line has no eventId: %v", line)
			}
			if got := b.types(); strings.Join(got, ",") != strings.Join(tc.wantEvents, ",") {
				t.Errorf("published %v; want %v", got, tc.wantEvents)
			}
			if len(store.recorded) != tc.wantRecords {
				t.Errorf("recorded %d occurrences; want %d", len(store.recorded), tc.wantRecords)
			}
		})
	}
}

func TestDiagnoserKey(t *testing.T) {
	store, logs := newMemStore(), &logSink{}
	d := &Diagnoser{Settings: testSettings(t, nil), Diagnose: ExplainOnly, Store: store, Bus: &fakeBus{}, Log: logs.logger()}
	if err := d.Handle(context.Background(), readTestdata(t, "denial-kms-decrypt-key-policy.json")); err != nil {
		t.Fatal(err)
	}
	if len(store.recorded) != 1 {
		t.Fatalf("recorded %d; want 1", len(store.recorded))
	}
	o := store.recorded[0]
	if o.EventID != "19caa148-6efa-5b29-9be5-9072c911e536" {
		t.Errorf("EventID = %q; want the EventBridge event id", o.EventID)
	}
	if o.Key.Account != "111122223333" || o.Key.Action != "kms:Decrypt" || !strings.HasPrefix(o.Key.Principal, "arn:aws:sts::111122223333:assumed-role/ReportWorker") {
		t.Errorf("key = %+v; want account, principal and kms:Decrypt from the record", o.Key)
	}
	if !json.Valid(o.Explanation) {
		t.Errorf("explanation %s is not JSON", o.Explanation)
	}
}
