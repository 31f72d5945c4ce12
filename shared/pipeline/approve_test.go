package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
)

const approverARN = "arn:aws:sts::111122223333:assumed-role/platform-oncall/maria"

func urlRequest(caller, body string) events.LambdaFunctionURLRequest {
	req := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Body: body}
	req.RequestContext.RequestID = "req-1"
	req.RequestContext.HTTP.Method = "POST"
	if caller != "" {
		req.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
			IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: caller, AccountID: "111122223333"},
		}
	}
	return req
}

func TestApprover(t *testing.T) {
	tests := []struct {
		name        string
		state       finding.State
		caller      string
		body        string
		rollbackErr error
		wantStatus  int
		wantState   finding.State
		wantEvents  []string
	}{
		{"approve", finding.StateProposed, approverARN, `{"fingerprint":"fp-1","decision":"approve","reason":"ok"}`, nil, 200, finding.StateApproved, []string{"Fix Approved"}},
		{"reject", finding.StateProposed, approverARN, `{"fingerprint":"fp-1","decision":"reject","reason":"no"}`, nil, 200, finding.StateRejected, []string{"Fix Rejected"}},
		{"not an approver", finding.StateProposed, "arn:aws:iam::111122223333:user/mallory", `{"fingerprint":"fp-1","decision":"approve"}`, nil, 403, finding.StateProposed, nil},
		{"no caller", finding.StateProposed, "", `{"fingerprint":"fp-1","decision":"approve"}`, nil, 403, finding.StateProposed, nil},
		{"bad json", finding.StateProposed, approverARN, `{"fingerprint":`, nil, 400, finding.StateProposed, nil},
		{"unknown field", finding.StateProposed, approverARN, `{"fingerprint":"fp-1","decision":"approve","force":true}`, nil, 400, finding.StateProposed, nil},
		{"bad decision", finding.StateProposed, approverARN, `{"fingerprint":"fp-1","decision":"maybe"}`, nil, 400, finding.StateProposed, nil},
		{"unknown fingerprint", finding.StateProposed, approverARN, `{"fingerprint":"fp-2","decision":"approve"}`, nil, 404, finding.StateProposed, nil},
		{"already rejected", finding.StateRejected, approverARN, `{"fingerprint":"fp-1","decision":"approve"}`, nil, 409, finding.StateRejected, nil},
		{"rollback", finding.StateApplied, approverARN, `{"fingerprint":"fp-1","decision":"rollback","reason":"broke the feed"}`, nil, 200, finding.StateRolledBack, []string{"Fix Rolled Back"}},
		{"rollback drifted", finding.StateApplied, approverARN, `{"fingerprint":"fp-1","decision":"rollback"}`, fix.ErrDrifted, 409, finding.StateApplied, nil},
		{"rollback not applied", finding.StateProposed, approverARN, `{"fingerprint":"fp-1","decision":"rollback"}`, nil, 409, finding.StateProposed, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, b, logs := newMemStore(), &fakeBus{}, &logSink{}
			f := store.put(tc.state, "propose")
			if tc.state == finding.StateApplied {
				f.Proposal.Change = &fix.Change{Kind: fix.KindS3EnforceBucketOwner}
				store.findings[f.Fingerprint] = f
			}
			a := &Approver{Settings: testSettings(t, map[string]string{"APPROVER_ARNS": "arn:aws:iam::111122223333:role/platform-oncall"}),
				Store: store, Bus: b, Fixer: &fakeFixer{rollbackErr: tc.rollbackErr}, Log: logs.logger()}
			resp, err := a.Handle(context.Background(), urlRequest(tc.caller, tc.body))
			if err != nil {
				t.Fatalf("Handle error = %v; want nil", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d; want %d (body %s)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			var ans Answer
			if err := json.Unmarshal([]byte(resp.Body), &ans); err != nil {
				t.Errorf("body %q is not JSON: %v", resp.Body, err)
			}
			if got := store.findings["fp-1"].Proposal.State; got != tc.wantState {
				t.Errorf("state = %s; want %s", got, tc.wantState)
			}
			if got := b.types(); strings.Join(got, ",") != strings.Join(tc.wantEvents, ",") {
				t.Errorf("published %v; want %v", got, tc.wantEvents)
			}
			logs.only(t)
		})
	}
}

func TestApproverBase64AndIdempotentRetry(t *testing.T) {
	store, b := newMemStore(), &fakeBus{err: errors.New("ThrottlingException")}
	store.put(finding.StateProposed, "propose")
	a := &Approver{Settings: testSettings(t, map[string]string{"APPROVER_ARNS": approverARN}), Store: store, Bus: b, Fixer: &fakeFixer{}}
	req := urlRequest(approverARN, base64.StdEncoding.EncodeToString([]byte(`{"fingerprint":"fp-1","decision":"approve"}`)))
	req.IsBase64Encoded = true
	resp, _ := a.Handle(context.Background(), req)
	if resp.StatusCode != 503 {
		t.Fatalf("status with the bus down = %d; want 503", resp.StatusCode)
	}
	b.err = nil
	resp, _ = a.Handle(context.Background(), req)
	if resp.StatusCode != 200 || len(b.events) != 1 {
		t.Errorf("retry: status %d, %d events; want 200 and the approval announced once", resp.StatusCode, len(b.events))
	}
}
