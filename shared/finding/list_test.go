package finding_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/settings"
)

// smallPages forwards to DynamoDB with one item per page, so List must
// follow LastEvaluatedKey across pages, most of them filtered empty.
type smallPages struct {
	api   finding.ScanAPI
	calls atomic.Int32
}

func (p *smallPages) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	p.calls.Add(1)
	in.Limit = aws.Int32(1)
	return p.api.Scan(ctx, in, optFns...)
}

func testListFiltersByStateNewestFirst(t *testing.T) {
	s, db := newStore(t)
	table := tableName(t)
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	// One finding per principal, each seen an hour after the previous.
	record := func(principal string, mode settings.Mode) string {
		t.Helper()
		now = now.Add(time.Hour)
		k := finding.Key{Account: key.Account, Principal: "arn:aws:iam::111122223333:user/" + principal, Action: key.Action, Resource: key.Resource, Cause: denial.CauseCrossAccountObjectOwnership}
		if _, err := s.Record(ctx, finding.Occurrence{Key: k, Fix: &proposal, Mode: mode}); err != nil {
			t.Fatal(err)
		}
		return k.Fingerprint()
	}
	move := func(fp string, steps ...finding.State) {
		t.Helper()
		for i := 1; i < len(steps); i++ {
			if _, err := s.Move(ctx, fp, finding.Transition{From: steps[i-1], To: steps[i], Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	proposed := record("ana", settings.ModePropose)
	applied := record("ben", settings.ModeAuto)
	move(applied, finding.StateProposed, finding.StateApproved, finding.StateApplying, finding.StateApplied)
	rejected := record("cai", settings.ModePropose)
	move(rejected, finding.StateProposed, finding.StateRejected)
	record("dee", settings.ModeNotify) // no proposal: never listed
	newest := record("eve", settings.ModePropose)

	tests := []struct {
		name   string
		filter finding.Filter
		want   []string
	}{
		{"every proposal", finding.Filter{}, []string{newest, rejected, applied, proposed}},
		{"proposed", finding.Filter{States: []finding.State{finding.StateProposed}}, []string{newest, proposed}},
		{"applied or rejected", finding.Filter{States: []finding.State{finding.StateApplied, finding.StateRejected}}, []string{rejected, applied}},
		{"none expired", finding.Filter{States: []finding.State{finding.StateExpired}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pages := &smallPages{api: db}
			got, err := finding.List(ctx, pages, table, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var fps []string
			for _, f := range got {
				fps = append(fps, f.Fingerprint)
				if f.Proposal == nil {
					t.Errorf("%s listed without a proposal", f.Fingerprint)
				}
			}
			if !slices.Equal(fps, tc.want) {
				t.Errorf("got %v; want %v", fps, tc.want)
			}
			// Five items, one a page: the last page is the one that comes
			// back without a LastEvaluatedKey.
			if n := pages.calls.Load(); n < 5 {
				t.Errorf("got %d Scan calls; want at least 5 (one item a page)", n)
			}
		})
	}

	got, err := finding.List(ctx, db, table, finding.Filter{States: []finding.State{finding.StateApplied}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Proposal.State != finding.StateApplied || got[0].Proposal.Actor != "test" || !strings.HasSuffix(got[0].Principal, "/ben") {
		t.Errorf("got %+v; want the applied finding of ben, fully decoded", got)
	}
}

func TestReaderIAMActionsStayOutOfFunctionRoles(t *testing.T) {
	// IAMActions is what every function using Store is granted; a
	// read-only operator action there would widen all of them.
	if slices.Contains(finding.IAMActions, "dynamodb:Scan") {
		t.Errorf("got dynamodb:Scan in IAMActions %v; want it only in ReaderIAMActions", finding.IAMActions)
	}
	if !slices.Contains(finding.ReaderIAMActions, "dynamodb:Scan") {
		t.Errorf("got ReaderIAMActions %v; want dynamodb:Scan in it", finding.ReaderIAMActions)
	}
}
