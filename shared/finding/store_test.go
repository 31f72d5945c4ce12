package finding_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/mototest"
	"github.com/denyfix/denyfix/shared/settings"
)

var srv *mototest.Server

// TestStore runs every store test as a subtest of one moto server.
func TestStore(t *testing.T) {
	srv = mototest.Start(t)
	t.Run("RecordCountsAndProposesOnce", testRecordCountsAndProposesOnce)
	t.Run("RecordNotifyModeOpensNoProposal", testRecordNotifyModeOpensNoProposal)
	t.Run("ConcurrentApprovalsExactlyOneWins", testConcurrentApprovalsExactlyOneWins)
	t.Run("MoveLifecycle", testMoveLifecycle)
	t.Run("ApproveAfterDeadlineExpires", testApproveAfterDeadlineExpires)
	t.Run("CreateTableHasTTL", testCreateTableHasTTL)
	t.Run("RedeliveryIsNotCounted", testRedeliveryIsNotCounted)
	t.Run("ListFiltersByStateNewestFirst", testListFiltersByStateNewestFirst)
}

// newStore gives each subtest its own table.
func newStore(t *testing.T) (*finding.Store, *dynamodb.Client) {
	t.Helper()
	db := dynamodb.NewFromConfig(srv.Config())
	table := tableName(t)
	if err := finding.CreateTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	return finding.NewStore(db, table), db
}

func tableName(t *testing.T) string {
	return "findings-" + strings.ReplaceAll(t.Name(), "/", "-")
}

var key = finding.Key{
	Account:   "111122223333",
	Principal: "arn:aws:sts::111122223333:assumed-role/app/i-0abc",
	Action:    "s3:GetObject",
	Resource:  "arn:aws:s3:::shared-data/reports/q3.csv",
	Cause:     denial.CauseCrossAccountObjectOwnership,
}

var proposal = fix.Proposal{
	Kind: fix.KindS3EnforceBucketOwner, Account: "111122223333", Bucket: "shared-data",
	Summary: "Set Object Ownership of shared-data to BucketOwnerEnforced.",
}

func testRecordCountsAndProposesOnce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	exp := json.RawMessage(`{"cause":"cross_account_object_ownership"}`)
	var notified []int64
	proposed := 0
	for i := 1; i <= 11; i++ {
		out, err := s.Record(ctx, finding.Occurrence{Key: key, Explanation: exp, Fix: &proposal, Mode: settings.ModePropose})
		if err != nil {
			t.Fatal(err)
		}
		if out.Finding.Count != int64(i) {
			t.Fatalf("count = %d; want %d", out.Finding.Count, i)
		}
		if out.Notify {
			notified = append(notified, out.Finding.Count)
		}
		if out.Proposed {
			proposed++
		}
	}
	if len(notified) != 2 || notified[0] != 1 || notified[1] != 10 {
		t.Errorf("notified at %v; want [1 10]", notified)
	}
	if proposed != 1 {
		t.Errorf("proposals opened = %d; want 1", proposed)
	}
	f, err := s.Get(ctx, key.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if f.Proposal == nil || f.Proposal.State != finding.StateProposed || f.Proposal.Fix.Kind != fix.KindS3EnforceBucketOwner {
		t.Fatalf("proposal = %+v; want proposed s3_enforce_bucket_owner", f.Proposal)
	}
	if f.Cause != denial.CauseCrossAccountObjectOwnership || string(f.Explanation) != string(exp) {
		t.Errorf("finding = %+v; want cause and explanation kept", f)
	}
	if f.FirstSeen.IsZero() || f.LastSeen.Before(f.FirstSeen) {
		t.Errorf("firstSeen %v, lastSeen %v; want ordered non-zero times", f.FirstSeen, f.LastSeen)
	}
}

func testRecordNotifyModeOpensNoProposal(t *testing.T) {
	s, _ := newStore(t)
	out, err := s.Record(context.Background(), finding.Occurrence{Key: key, Fix: &proposal, Mode: settings.ModeNotify})
	if err != nil {
		t.Fatal(err)
	}
	if out.Proposed || out.Finding.Proposal != nil {
		t.Errorf("outcome = %+v; want no proposal in notify mode", out)
	}
}

// atomicMoto forwards to moto one request at a time. moto_server is
// threaded and evaluates a ConditionExpression and applies the update
// without a lock, so two racing conditional writes can both pass there;
// DynamoDB does each conditional write atomically per item. Serialising the
// requests restores that guarantee while moto still evaluates the real
// expressions.
func atomicMoto(t *testing.T) *dynamodb.Client {
	t.Helper()
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := srv.Config()
	cfg.BaseEndpoint = aws.String(front.URL)
	return dynamodb.NewFromConfig(cfg)
}

func testConcurrentApprovalsExactlyOneWins(t *testing.T) {
	newStore(t) // creates the table
	s := finding.NewStore(atomicMoto(t), tableName(t))
	ctx := context.Background()
	if _, err := s.Record(ctx, finding.Occurrence{Key: key, Fix: &proposal, Mode: settings.ModePropose}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Move(ctx, key.Fingerprint(), finding.Transition{From: finding.StateProposed, To: finding.StateApproved, Actor: "arn:aws:iam::111122223333:user/op"})
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, finding.ErrConflict):
			t.Errorf("losing approval error = %v; want ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("winning approvals = %d; want exactly 1", wins)
	}
}

func testMoveLifecycle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fp := key.Fingerprint()
	if _, err := s.Move(ctx, fp, finding.Transition{From: finding.StateProposed, To: finding.StateApproved}); !errors.Is(err, finding.ErrNotFound) {
		t.Fatalf("move on missing finding = %v; want ErrNotFound", err)
	}
	if _, err := s.Record(ctx, finding.Occurrence{Key: key, Fix: &proposal, Mode: settings.ModeAuto}); err != nil {
		t.Fatal(err)
	}
	change := &fix.Change{Kind: fix.KindS3EnforceBucketOwner, Before: fix.Snapshot{Ownership: "ObjectWriter"}, After: fix.Snapshot{Ownership: "BucketOwnerEnforced"}}
	steps := []struct {
		name    string
		t       finding.Transition
		wantErr error
	}{
		{"apply before approval", finding.Transition{From: finding.StateApproved, To: finding.StateApplying}, finding.ErrConflict},
		{"approve", finding.Transition{From: finding.StateProposed, To: finding.StateApproved, Actor: "denyfix"}, nil},
		{"claim", finding.Transition{From: finding.StateApproved, To: finding.StateApplying}, nil},
		{"second claim", finding.Transition{From: finding.StateApproved, To: finding.StateApplying}, finding.ErrConflict},
		{"applied", finding.Transition{From: finding.StateApplying, To: finding.StateApplied, Change: change}, nil},
		{"reject after apply", finding.Transition{From: finding.StateProposed, To: finding.StateRejected}, finding.ErrConflict},
	}
	for _, st := range steps {
		_, err := s.Move(ctx, fp, st.t)
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: err = %v; want %v", st.name, err, st.wantErr)
		}
	}
	f, err := s.Get(ctx, fp)
	if err != nil {
		t.Fatal(err)
	}
	if f.Proposal.State != finding.StateApplied || f.Proposal.Change == nil || f.Proposal.Change.Before.Ownership != "ObjectWriter" {
		t.Errorf("proposal = %+v; want applied with the before state recorded", f.Proposal)
	}
	if f.Proposal.Mode != settings.ModeAuto {
		t.Errorf("mode = %v; want auto", f.Proposal.Mode)
	}
}

func testApproveAfterDeadlineExpires(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()
	s.Now = func() time.Time { return now }
	if _, err := s.Record(ctx, finding.Occurrence{Key: key, Fix: &proposal, Mode: settings.ModePropose}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(s.ProposalTTL + time.Minute)
	_, err := s.Move(ctx, key.Fingerprint(), finding.Transition{From: finding.StateProposed, To: finding.StateApproved})
	if !errors.Is(err, finding.ErrExpired) {
		t.Fatalf("late approval = %v; want ErrExpired", err)
	}
	// A new occurrence after the deadline reopens the proposal.
	out, err := s.Record(ctx, finding.Occurrence{Key: key, Fix: &proposal, Mode: settings.ModePropose})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Proposed {
		t.Errorf("Proposed = false; want a fresh proposal after expiry")
	}
}

func testCreateTableHasTTL(t *testing.T) {
	_, db := newStore(t)
	out, err := db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tableName(t))})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TimeToLiveDescription
	if d == nil || aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v; want expiresAt enabled", d)
	}
}

func testRedeliveryIsNotCounted(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	o := finding.Occurrence{Key: key, EventID: "evt-1", Fix: &proposal, Mode: settings.ModePropose}
	first, err := s.Record(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Record(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.Finding.Count != 1 {
		t.Errorf("redelivery: replayed %v count %d; want replayed, count 1", again.Replayed, again.Finding.Count)
	}
	if again.Notify != first.Notify || again.Proposed != first.Proposed {
		t.Errorf("redelivery Notify/Proposed = %v/%v; want %v/%v as the first delivery", again.Notify, again.Proposed, first.Notify, first.Proposed)
	}
	o.EventID = "evt-2"
	next, err := s.Record(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if next.Replayed || next.Finding.Count != 2 || next.Proposed {
		t.Errorf("new event: replayed %v count %d proposed %v; want counted once, no new proposal", next.Replayed, next.Finding.Count, next.Proposed)
	}
}
