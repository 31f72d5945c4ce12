package scan

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/denyfix/denyfix/shared/denial"
)

// maxKeys bounds the distinct values kept per dimension, and maxFindings the
// distinct findings, so memory stays bounded whatever the input; the excess
// is counted under Other. A finding holds an example explanation, so there
// are fewer of them.
const (
	maxKeys     = 100_000
	maxFindings = 20_000
)

// Other is the key that collects values beyond maxKeys distinct ones.
const Other = "(other)"

// None is the key for a denial that lacks the dimension (no principal, no
// resource named).
const None = "(none)"

// Report is what a scan found. Records and Denials count what lies in the
// time window, over the inputs that were read completely: an input that
// failed contributes nothing, and is listed in Failed.
type Report struct {
	Records int64 `json:"records"`
	Denials int64 `json:"denials"`
	// Inputs is the number of inputs (files, objects, stdin) scanned,
	// failed ones included.
	Inputs int          `json:"inputs"`
	Failed []InputError `json:"failedInputs"`
	Since  *time.Time   `json:"since"`
	Until  *time.Time   `json:"until"`
	First  *time.Time   `json:"firstDenial"`
	Last   *time.Time   `json:"lastDenial"`
	By     Dimensions   `json:"by"`
	// Findings are the top findings by count; FindingCount is how many
	// distinct findings there were.
	Findings     []Finding `json:"findings"`
	FindingCount int       `json:"findingCount"`
	Timeline     Timeline  `json:"timeline"`
}

// Complete reports whether every input was read.
func (r *Report) Complete() bool { return len(r.Failed) == 0 }

// InputError names an input that could not be read and says why.
type InputError struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// Dimensions are the denial counts per value of each dimension.
type Dimensions struct {
	ErrorCode  map[string]int64 `json:"errorCode"`
	Cause      map[string]int64 `json:"cause"`
	PolicyType map[string]int64 `json:"policyType"`
	Principal  map[string]int64 `json:"principal"`
	Action     map[string]int64 `json:"action"`
	Resource   map[string]int64 `json:"resource"`
	Account    map[string]int64 `json:"account"`
	Region     map[string]int64 `json:"region"`
}

// Finding groups the denials of one principal, action and resource with one
// cause in one account: the unit an operator fixes.
type Finding struct {
	Account    string            `json:"account"`
	Principal  string            `json:"principal"`
	Action     string            `json:"action"`
	Resource   string            `json:"resource"`
	Cause      denial.Cause      `json:"cause"`
	PolicyType denial.PolicyType `json:"policyType"`
	ErrorCode  string            `json:"errorCode"`
	Count      int64             `json:"count"`
	FirstSeen  time.Time         `json:"firstSeen"`
	LastSeen   time.Time         `json:"lastSeen"`
	Summary    string            `json:"summary"`
	NextSteps  []string          `json:"nextSteps"`
	// Example is the explanation of the earliest denial (ties broken by
	// event id), so the same logs always give the same report.
	Example denial.Explanation `json:"example"`
}

// Timeline counts denials per hour or per day (Bucket), oldest first, with
// empty buckets included so it charts directly.
type Timeline struct {
	Bucket string  `json:"bucket"` // "hour", "day" or "week"
	Points []Point `json:"points"`
}

// Point is one bucket of the timeline.
type Point struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// KeyCount is one value of a dimension and its count.
type KeyCount struct {
	Key   string
	Count int64
}

// Sorted returns a dimension's counts, largest first (ties by key), at most
// n of them when n > 0.
func Sorted(m map[string]int64, n int) []KeyCount {
	out := make([]KeyCount, 0, len(m))
	for k, v := range m {
		out = append(out, KeyCount{k, v})
	}
	slices.SortFunc(out, func(a, b KeyCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// findingKey identifies a finding.
type findingKey struct {
	account, principal, action, resource string
	cause                                denial.Cause
}

// tally accumulates counts; one per input, merged into one per worker when
// the input was read completely, then into the report.
type tally struct {
	records, denials int64
	dims             [8]map[string]int64
	findings         map[findingKey]*Finding
	hours            map[int64]int64 // unix hour → denials
	first, last      time.Time
}

const (
	dimErrorCode = iota
	dimCause
	dimPolicyType
	dimPrincipal
	dimAction
	dimResource
	dimAccount
	dimRegion
)

func newTally() *tally {
	t := &tally{findings: map[findingKey]*Finding{}, hours: map[int64]int64{}}
	for i := range t.dims {
		t.dims[i] = map[string]int64{}
	}
	return t
}

func (t *tally) reset() {
	t.records, t.denials = 0, 0
	for i := range t.dims {
		clear(t.dims[i])
	}
	clear(t.findings)
	clear(t.hours)
	t.first, t.last = time.Time{}, time.Time{}
}

func bump(m map[string]int64, k string, n int64) {
	if _, ok := m[k]; !ok && len(m) >= maxKeys {
		k = Other
	}
	m[k] += n
}

// add counts one explained denial that happened at at.
func (t *tally) add(e *denial.Explanation, at time.Time) {
	t.denials++
	acct, principal, action, resource := orNone(e.Account), orNone(e.Principal), orNone(e.Action), orNone(e.Resource)
	region := orNone(e.Region)
	code := orNone(e.ErrorCode)
	bump(t.dims[dimErrorCode], code, 1)
	bump(t.dims[dimCause], e.Cause.String(), 1)
	bump(t.dims[dimPolicyType], e.PolicyType.String(), 1)
	bump(t.dims[dimPrincipal], principal, 1)
	bump(t.dims[dimAction], action, 1)
	bump(t.dims[dimResource], resource, 1)
	bump(t.dims[dimAccount], acct, 1)
	bump(t.dims[dimRegion], region, 1)
	if !at.IsZero() {
		t.hours[at.Unix()/3600]++
		if t.first.IsZero() || at.Before(t.first) {
			t.first = at
		}
		if at.After(t.last) {
			t.last = at
		}
	}
	k := findingKey{acct, principal, action, resource, e.Cause}
	f := t.findings[k]
	if f == nil && len(t.findings) >= maxFindings {
		k = otherFinding
		f = t.findings[k]
	}
	if f == nil {
		f = &Finding{Account: k.account, Principal: k.principal, Action: k.action, Resource: k.resource, Cause: k.cause}
		if k != otherFinding {
			f.PolicyType, f.ErrorCode, f.Example = e.PolicyType, code, lean(e)
		}
		t.findings[k] = f
	} else if k != otherFinding && earlier(at, e.EventID, f) {
		f.Example = lean(e)
	}
	f.Count++
	f.seen(at, at)
}

// otherFinding collects the denials of findings beyond maxFindings.
var otherFinding = findingKey{Other, Other, Other, Other, denial.CauseUnknown}

// lean is the explanation without its prose, which report restores for the
// findings it shows: thousands of findings need not carry their next steps.
func lean(e *denial.Explanation) denial.Explanation {
	l := *e
	l.Summary, l.NextSteps = "", nil
	return l
}

// eventTime is the explanation's event time; zero when absent or malformed.
func eventTime(e *denial.Explanation) time.Time {
	if e.EventTime == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, *e.EventTime)
	return t
}

// earlier reports whether a denial at at with event id id comes before the
// example f holds now.
func earlier(at time.Time, id *string, f *Finding) bool {
	ex := eventTime(&f.Example)
	if !at.Equal(ex) {
		return !at.IsZero() && (ex.IsZero() || at.Before(ex))
	}
	return id != nil && (f.Example.EventID == nil || *id < *f.Example.EventID)
}

func (f *Finding) seen(first, last time.Time) {
	if !first.IsZero() && (f.FirstSeen.IsZero() || first.Before(f.FirstSeen)) {
		f.FirstSeen = first
	}
	if last.After(f.LastSeen) {
		f.LastSeen = last
	}
}

// merge adds o into t.
func (t *tally) merge(o *tally) {
	t.records += o.records
	t.denials += o.denials
	for i := range t.dims {
		for k, v := range o.dims[i] {
			bump(t.dims[i], k, v)
		}
	}
	for h, v := range o.hours {
		t.hours[h] += v
	}
	if !o.first.IsZero() && (t.first.IsZero() || o.first.Before(t.first)) {
		t.first = o.first
	}
	if o.last.After(t.last) {
		t.last = o.last
	}
	for k, of := range o.findings {
		f := t.findings[k]
		if f == nil && len(t.findings) >= maxFindings {
			k = otherFinding
			f = t.findings[k]
		}
		switch {
		case f == nil && k == otherFinding:
			f = &Finding{Account: Other, Principal: Other, Action: Other, Resource: Other}
			t.findings[k] = f
		case f == nil:
			c := *of
			c.Count = 0
			f = &c
			t.findings[k] = f
		case k != otherFinding && earlier(eventTime(&of.Example), of.Example.EventID, f):
			f.Example = of.Example
		}
		f.Count += of.Count
		f.seen(of.FirstSeen, of.LastSeen)
	}
}

func orNone(s *string) string {
	if s == nil || *s == "" {
		return None
	}
	return *s
}

// report turns the tally into a Report keeping the top findings.
func (t *tally) report(top int) *Report {
	r := &Report{
		Records: t.records, Denials: t.denials,
		By: Dimensions{
			ErrorCode: t.dims[dimErrorCode], Cause: t.dims[dimCause], PolicyType: t.dims[dimPolicyType],
			Principal: t.dims[dimPrincipal], Action: t.dims[dimAction], Resource: t.dims[dimResource],
			Account: t.dims[dimAccount], Region: t.dims[dimRegion],
		},
		FindingCount: len(t.findings),
		Findings:     make([]Finding, 0, len(t.findings)),
		Failed:       []InputError{},
	}
	if !t.first.IsZero() {
		first, last := t.first, t.last
		r.First, r.Last = &first, &last
	}
	for _, f := range t.findings {
		r.Findings = append(r.Findings, *f)
	}
	slices.SortFunc(r.Findings, func(a, b Finding) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Principal, b.Principal),
			cmp.Compare(a.Action, b.Action), cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Cause, b.Cause))
	})
	if top > 0 && len(r.Findings) > top {
		r.Findings = r.Findings[:top]
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Principal == Other && f.Resource == Other {
			f.Summary = fmt.Sprintf("Denials of findings beyond the first %d distinct ones, counted together.", maxFindings)
			continue
		}
		denial.Describe(&f.Example)
		f.Summary, f.NextSteps = f.Example.Summary, f.Example.NextSteps
	}
	r.Timeline = timeline(t.hours, t.first, t.last)
	return r
}

// timeline buckets per hour when the denials span at most three days, else
// per day, so a chart has between a few and a few hundred bars.
func timeline(hours map[int64]int64, first, last time.Time) Timeline {
	tl := Timeline{Bucket: "hour", Points: []Point{}}
	if first.IsZero() {
		return tl
	}
	size := time.Hour
	switch span := last.Sub(first); {
	case span > maxPoints*24*time.Hour:
		tl.Bucket, size = "week", 7*24*time.Hour
	case span > 72*time.Hour:
		tl.Bucket, size = "day", 24*time.Hour
	}
	start, end := first.UTC().Truncate(size), last.UTC().Truncate(size)
	n := maxPoints
	if span := end.Sub(start); span < maxPoints*size { // Sub saturates, never wraps
		n = int(span/size) + 1
	} else {
		// Only a corrupt eventTime spans this long (CloudTrail began in
		// 2013): keep the latest points and count what is older in the
		// first one, so a bad record cannot blow the chart up.
		start = end.Add(-(maxPoints - 1) * size)
	}
	tl.Points = make([]Point, n)
	for i := range tl.Points {
		tl.Points[i].Start = start.Add(time.Duration(i) * size)
	}
	for h, v := range hours {
		at := time.Unix(h*3600, 0).UTC()
		i := max(int(at.Truncate(size).Sub(start)/size), 0)
		if i < n {
			tl.Points[i].Count += v
		}
	}
	return tl
}

// maxPoints bounds the timeline: about three years of days, or nineteen
// of weeks.
const maxPoints = 1000
