package scan

import (
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
