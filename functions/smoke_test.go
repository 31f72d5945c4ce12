// Package functions_test runs each function's real bootstrap, built for
// this machine, against a fake Lambda Runtime API that speaks the real
// protocol (/2018-06-01/runtime/invocation/...), with every AWS call going to
// a private moto server. The Runtime Interface Emulator cannot be installed
// here; this is the same protocol it serves.
package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/localdeploy"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/settings"
)

const (
	table   = "denyfix-findings"
	busName = "denyfix"
	ownRole = "arn:aws:iam::111122223333:role/denyfix-DiagnoseRole-3FJ2K8L1M0QZ"
	opsRole = "arn:aws:iam::111122223333:role/platform-oncall"
)

// result is what the function posted for one invocation.
type result struct {
	ok   bool // posted to .../response (else .../error)
	body []byte
}

type invocation struct {
	id      string
	payload []byte
	done    chan result
}

// runtimeAPI is a fake Lambda Runtime API.
type runtimeAPI struct {
	srv     *httptest.Server
	next    chan *invocation
	stop    chan struct{}
	mu      sync.Mutex
	pending map[string]*invocation
	initErr chan []byte
	seq     int
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	r := &runtimeAPI{next: make(chan *invocation), stop: make(chan struct{}), pending: map[string]*invocation{}, initErr: make(chan []byte, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		select {
		case inv := <-r.next:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:denyfix-smoke")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(inv.payload)
		case <-r.stop:
		case <-req.Context().Done():
		}
	})
	finish := func(ok bool) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			body, _ := io.ReadAll(req.Body)
			r.mu.Lock()
			inv := r.pending[req.PathValue("id")]
			delete(r.pending, req.PathValue("id"))
			r.mu.Unlock()
			if inv == nil {
				http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"OK"}`))
			inv.done <- result{ok: ok, body: body}
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", finish(true))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", finish(false))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		select {
		case r.initErr <- body:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() { close(r.stop); r.srv.Close() })
	return r
}

// invoke hands one event to the function and waits for its answer.
func (r *runtimeAPI) invoke(t *testing.T, payload []byte) result {
	t.Helper()
	r.mu.Lock()
	r.seq++
	inv := &invocation{id: fmt.Sprintf("req-%04d", r.seq), payload: payload, done: make(chan result, 1)}
	r.pending[inv.id] = inv
	r.mu.Unlock()
	select {
	case r.next <- inv:
	case b := <-r.initErr:
		t.Fatalf("function failed to start: %s", b)
	case <-time.After(60 * time.Second):
		t.Fatal("function never asked for the next invocation")
	}
	select {
	case res := <-inv.done:
		return res
	case <-time.After(60 * time.Second):
		t.Fatal("function never answered")
	}
	return result{}
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// logLine returns the JSON log line mentioning eventID, waiting briefly:
// the line may follow the response.
func (b *syncBuffer) logLine(t *testing.T, eventID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		lines := strings.Split(b.buf.String(), "\n")
		b.mu.Unlock()
		var found []map[string]any
		for _, l := range lines {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["eventId"] == eventID {
				found = append(found, m)
			}
		}
		if len(found) > 1 {
			t.Fatalf("%d log lines for event %s; want exactly one", len(found), eventID)
		}
		if len(found) == 1 {
			return found[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line for event %s in:\n%s", eventID, b.buf.String())
	return nil
}

// bootstraps maps a function name to its bootstrap, built by buildAll.
var bootstraps = map[string]string{}

// buildAll builds every functions/<name> exactly as the Makefile does, for
// this machine.
func buildAll(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, fn := range []string{"diagnose", "remediate", "approve", "notify"} {
		out := filepath.Join(dir, fn, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, "./functions/"+fn)
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", fn, err, b)
		}
		bootstraps[fn] = out
	}
}

// start runs a function's bootstrap against a fresh fake runtime.
func start(t *testing.T, name string, moto *mototest.Server, env map[string]string) (*runtimeAPI, *syncBuffer) {
	t.Helper()
	rt := newRuntimeAPI(t)
	logs := &syncBuffer{}
	cmd := exec.Command(bootstraps[name])
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.srv.URL, "http://"),
		"AWS_ENDPOINT_URL=" + moto.URL,
		"AWS_REGION=" + mototest.Region,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=denyfix-" + name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"HOME=" + t.TempDir(),
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// The functions are deployed with 128 MB: the peak resident memory
		// of the whole run must fit, with room for the runtime around it.
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			if peak := ru.Maxrss * 1024; peak > 96<<20 {
				t.Errorf("%s peak memory: got %d MiB; want under 96 MiB of the 128 MB the template gives it", name, peak>>20)
			}
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, logs.buf.String())
		}
	})
	return rt, logs
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatalf("sample event: %v", err)
	}
	return b
}

func eventID(t *testing.T, raw []byte) string {
	t.Helper()
	var ev struct{ ID string }
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

func TestSmoke(t *testing.T) {
	buildAll(t)
	moto := mototest.Start(t)
	cfg := moto.Config()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	if err := finding.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"TABLE_NAME":        table,
		"EVENT_BUS_NAME":    busName,
		"DENYFIX_ROLE_ARNS": ownRole,
		"APPROVER_ARNS":     opsRole,
		"BUCKET_ALLOWLIST":  "amzn-s3-demo-bucket",
		"ACCOUNT_ALLOWLIST": "111122223333",
		"LOG_LEVEL":         "info",
	}

	t.Run("diagnose", func(t *testing.T) {
		rt, logs := start(t, "diagnose", moto, base)

		denialEvent := sample(t, "denial-kms-decrypt-key-policy.json")
		res := rt.invoke(t, denialEvent)
		if !res.ok {
			t.Fatalf("valid denial answered with an error: %s", res.body)
		}
		if got := logs.logLine(t, eventID(t, denialEvent))["outcome"]; got != "recorded" {
			t.Errorf("valid denial outcome = %v; want recorded", got)
		}
		items, err := db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 aws.String(table),
			FilterExpression:          aws.String("lastEventId = :e"),
			ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":e": &dbtypes.AttributeValueMemberS{Value: eventID(t, denialEvent)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(items.Items) != 1 {
			t.Fatalf("findings for the denial = %d; want 1", len(items.Items))
		}
		if c, _ := items.Items[0]["count"].(*dbtypes.AttributeValueMemberN); c == nil || c.Value != "1" {
			t.Errorf("finding count = %v; want 1", items.Items[0]["count"])
		}

		// Lambda redelivers the same event: not counted twice.
		if res := rt.invoke(t, denialEvent); !res.ok {
			t.Fatalf("redelivery answered with an error: %s", res.body)
		}
		again, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]dbtypes.AttributeValue{"pk": items.Items[0]["pk"]}})
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := again.Item["count"].(*dbtypes.AttributeValueMemberN); c == nil || c.Value != "1" {
			t.Errorf("count after redelivery = %v; want still 1", again.Item["count"])
		}

		cases := []struct {
			name    string
			payload []byte
			id      string
			outcome string
		}{
			{"S3 denial with probes", sample(t, "s3-cross-account-object-ownership.json"), "", "recorded"},
			{"malformed", []byte(`{"version":"0","id":"malformed-1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":"not a record"}`), "malformed-1", "dropped_malformed"},
			{"own role", sample(t, "denial-kms-getkeypolicy-denyfix-own-role.json"), "", "ignored_denyfix_role"},
			{"unknown error code", sample(t, "ignored-dynamodb-describetable-throttling.json"), "", "ignored_not_denial"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				id := tc.id
				if id == "" {
					id = eventID(t, tc.payload)
				}
				res := rt.invoke(t, tc.payload)
				if !res.ok {
					t.Fatalf("answered with an error (Lambda would retry): %s", res.body)
				}
				if got := logs.logLine(t, id)["outcome"]; got != tc.outcome {
					t.Errorf("outcome = %v; want %s", got, tc.outcome)
				}
			})
		}
		count, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if count.Count != 2 {
			t.Errorf("findings in the table = %d; want 2 (the KMS and the S3 denial, nothing else)", count.Count)
		}
	})

	t.Run("diagnose transient failure", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		env["TABLE_NAME"] = "no-such-table"
		rt, logs := start(t, "diagnose", moto, env)
		ev := sample(t, "denial-kms-decrypt-key-policy.json")
		res := rt.invoke(t, ev)
		if res.ok {
			t.Fatalf("missing table answered success; want an error so Lambda retries")
		}
		var e struct{ ErrorMessage, ErrorType string }
		if err := json.Unmarshal(res.body, &e); err != nil || !strings.Contains(e.ErrorMessage, "ResourceNotFound") {
			t.Errorf("error body = %s; want the DynamoDB error", res.body)
		}
		if got := logs.logLine(t, eventID(t, ev))["outcome"]; got != "retry" {
			t.Errorf("outcome = %v; want retry", got)
		}
	})

	// A proposal recorded as diagnose would, on a bucket outside the
	// allowlist: remediate must skip it without touching S3.
	store := finding.NewStore(db, table)
	key := finding.Key{Account: "111122223333", Principal: "arn:aws:sts::111122223333:assumed-role/ReportWorker/i-0a1b2c3d4e5f67890",
		Action: "s3:GetObject", Resource: "arn:aws:s3:::partner-owned-bucket/incoming/feed.csv", Cause: denial.CauseCrossAccountObjectOwnership}
	proposal := fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: "111122223333", Bucket: "partner-owned-bucket", Summary: "Enforce bucket owner."}
	if _, err := store.Record(ctx, finding.Occurrence{Key: key, EventID: "smoke-1", Fix: &proposal, Mode: settings.ModePropose}); err != nil {
		t.Fatal(err)
	}
	fp := key.Fingerprint()

	t.Run("approve", func(t *testing.T) {
		rt, _ := start(t, "approve", moto, base)
		call := func(caller, body string) events.LambdaFunctionURLResponse {
			req := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Body: body, Headers: map[string]string{"content-type": "application/json"}}
			req.RequestContext.RequestID = "url-req"
			req.RequestContext.HTTP.Method = "POST"
			req.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
				IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: caller, AccountID: "111122223333"},
			}
			payload, _ := json.Marshal(req)
			res := rt.invoke(t, payload)
			if !res.ok {
				t.Fatalf("approve answered with an invocation error: %s", res.body)
			}
			var resp events.LambdaFunctionURLResponse
			if err := json.Unmarshal(res.body, &resp); err != nil {
				t.Fatalf("response %s: %v", res.body, err)
			}
			return resp
		}
		if resp := call("arn:aws:iam::111122223333:user/mallory", `{"fingerprint":"`+fp+`","decision":"approve"}`); resp.StatusCode != 403 {
			t.Errorf("non-approver status = %d; want 403", resp.StatusCode)
		}
		if resp := call("arn:aws:sts::111122223333:assumed-role/platform-oncall/maria", `{"fingerprint":"nope","decision":"approve"}`); resp.StatusCode != 404 {
			t.Errorf("unknown fingerprint status = %d; want 404", resp.StatusCode)
		}
		if resp := call("arn:aws:sts::111122223333:assumed-role/platform-oncall/maria", `{"fingerprint":"`+fp+`","decision":"approve","reason":"smoke"}`); resp.StatusCode != 200 {
			t.Fatalf("approval status = %d (%s); want 200", resp.StatusCode, resp.Body)
		}
		if resp := call("arn:aws:sts::111122223333:assumed-role/platform-oncall/other", `{"fingerprint":"`+fp+`","decision":"reject"}`); resp.StatusCode != 409 {
			t.Errorf("late rejection status = %d; want 409", resp.StatusCode)
		}
		f, err := store.Get(ctx, fp)
		if err != nil {
			t.Fatal(err)
		}
		if f.Proposal.State != finding.StateApproved {
			t.Errorf("state = %s; want approved", f.Proposal.State)
		}
	})

	t.Run("remediate", func(t *testing.T) {
		rt, logs := start(t, "remediate", moto, base)
		ev, _ := json.Marshal(map[string]any{
			"version": "0", "id": "remediate-1", "detail-type": "Fix Approved", "source": "denyfix",
			"account": "111122223333", "time": "2026-11-21T14:40:00Z", "region": "us-east-1", "resources": []string{},
			"detail": map[string]any{"fingerprint": fp, "cause": "cross_account_object_ownership", "actor": opsRole},
		})
		if res := rt.invoke(t, ev); !res.ok {
			t.Fatalf("remediate answered with an error: %s", res.body)
		}
		if got := logs.logLine(t, "remediate-1")["outcome"]; got != "skipped" {
			t.Errorf("outcome = %v; want skipped (bucket outside the allowlist)", got)
		}
		f, err := store.Get(ctx, fp)
		if err != nil {
			t.Fatal(err)
		}
		if f.Proposal.State != finding.StateSkipped || !strings.Contains(f.Proposal.Error, "not allowlisted") {
			t.Errorf("proposal = %s %q; want skipped as not allowlisted", f.Proposal.State, f.Proposal.Error)
		}
		// The same event again: the claim is spent, nothing is applied twice.
		if res := rt.invoke(t, ev); !res.ok {
			t.Fatalf("duplicate answered with an error: %s", res.body)
		}
	})

	t.Run("notify", func(t *testing.T) {
		sn := sns.NewFromConfig(cfg)
		q := sqs.NewFromConfig(cfg)
		topicARN, queueURL, err := localdeploy.TopicToQueue(ctx, sn, q, "denyfix-notifications")
		if err != nil {
			t.Fatal(err)
		}
		rt, logs := start(t, "notify", moto, map[string]string{"TOPIC_ARN": topicARN})
		ev := sample(t, "bus-fix-applied.json")
		if res := rt.invoke(t, ev); !res.ok {
			t.Fatalf("notify answered with an error: %s", res.body)
		}
		if got := logs.logLine(t, eventID(t, ev))["outcome"]; got != "notified" {
			t.Errorf("outcome = %v; want notified", got)
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), `\"source\": \"custom\"`) {
			t.Errorf("delivered %d messages; want one Chatbot notification", len(out.Messages))
		}
		if res := rt.invoke(t, []byte(`{"id":"junk-1","source":"denyfix","detail-type":"Fix Applied","detail":{}}`)); !res.ok {
			t.Errorf("malformed bus event answered with an error: %s", res.body)
		}
	})
}
