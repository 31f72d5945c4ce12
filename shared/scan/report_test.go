package scan

import (
	"fmt"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/denial"
)

// TestFindingExampleIsTheEarliest: whichever order workers see a finding's
// denials in, its example is the earliest one, so reports are reproducible.
func TestFindingExampleIsTheEarliest(t *testing.T) {
	explain := func(id, at string) (*denial.Explanation, time.Time) {
		e, ok := denial.ExplainText("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action")
		if !ok {
			t.Fatal("not explained")
		}
		e.EventID, e.EventTime = &id, &at
		ts, _ := time.Parse(time.RFC3339, at)
		return &e, ts
	}
	for _, order := range [][]string{{"b", "a", "c"}, {"c", "b", "a"}, {"a", "c", "b"}} {
		times := map[string]string{"a": "2026-11-20T01:00:00Z", "b": "2026-11-20T02:00:00Z", "c": "2026-11-20T01:00:00Z"}
		// Two workers split the denials; their tallies merge.
		one, two := newTally(), newTally()
		for i, id := range order {
			e, at := explain(id, times[id])
			if i%2 == 0 {
				one.add(e, at)
			} else {
				two.add(e, at)
			}
		}
		one.merge(two)
		if len(one.findings) != 1 {
			t.Fatalf("findings: got %d; want 1", len(one.findings))
		}
		for _, f := range one.findings {
			if got := *f.Example.EventID; got != "a" {
				t.Errorf("order %v: example event got %s; want a (earliest, then lowest id)", order, got)
			}
			if f.Count != 3 {
				t.Errorf("order %v: count got %d; want 3", order, f.Count)
			}
		}
	}
}

// TestFindingsAreBounded: past maxFindings distinct findings the rest are
// counted together under (other), labelled as such, whichever tally saw them.
func TestFindingsAreBounded(t *testing.T) {
	base, ok := denial.ExplainText("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:GetObject action")
	if !ok {
		t.Fatal("not explained")
	}
	at := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	one, two := newTally(), newTally()
	const extra = 7
	for i := range maxFindings + extra {
		e := base
		r := fmt.Sprintf("arn:aws:s3:::b/k%d", i)
		e.Resource = &r
		if i%2 == 0 {
			one.add(&e, at)
		} else {
			two.add(&e, at)
		}
	}
	one.merge(two)
	r := one.report(0)
	if got, want := r.FindingCount, maxFindings+1; got != want {
		t.Fatalf("findings: got %d; want %d (the rest under %s)", got, want, Other)
	}
	var total int64
	for _, f := range r.Findings {
		total += f.Count
		if f.Resource == Other && (f.Principal != Other || f.Account != Other || f.Cause != denial.CauseUnknown || f.Count != extra) {
			t.Errorf("other finding: got %+v; want every key %s, cause unknown, count %d", f, Other, extra)
		}
	}
	if total != maxFindings+extra {
		t.Errorf("denials counted: got %d; want %d", total, maxFindings+extra)
	}
}

func TestTimelineIsBounded(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	hourOf := func(ts time.Time) int64 { return ts.Unix() / 3600 }
	tests := []struct {
		name        string
		first, last string
		bucket      string
		points      int
	}{
		{"a day in hours", "2026-11-20T00:10:00Z", "2026-11-20T23:50:00Z", "hour", 24},
		{"a month in days", "2026-10-21T00:00:00Z", "2026-11-20T00:00:00Z", "day", 31},
		{"five years in weeks", "2021-11-20T00:00:00Z", "2026-11-20T00:00:00Z", "week", 262},
		{"a corrupt eventTime in year 100", "0100-01-01T00:00:00Z", "2026-11-20T00:00:00Z", "week", maxPoints},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, last := at(tt.first), at(tt.last)
			hours := map[int64]int64{hourOf(first): 2, hourOf(last): 3}
			tl := timeline(hours, first, last)
			if tl.Bucket != tt.bucket || len(tl.Points) < tt.points-1 || len(tl.Points) > tt.points+1 {
				t.Fatalf("got %s x %d; want %s x about %d", tl.Bucket, len(tl.Points), tt.bucket, tt.points)
			}
			var sum int64
			for _, p := range tl.Points {
				sum += p.Count
			}
			if sum != 5 {
				t.Errorf("denials on the timeline: got %d; want 5", sum)
			}
			if got := tl.Points[len(tl.Points)-1]; got.Count < 3 {
				t.Errorf("last point: got %d; want the latest denials in it", got.Count)
			}
		})
	}
}
