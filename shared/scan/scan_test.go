package scan

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/scan/corpus"
)

// writeCorpus generates a corpus under a temporary directory.
func writeCorpus(t testing.TB, spec corpus.Spec) (string, corpus.Truth) {
	t.Helper()
	dir := t.TempDir()
	truth, err := corpus.WriteDir(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

// checkCounts compares a report with the counts the corpus was built with.
func checkCounts(t *testing.T, r *Report, want corpus.Counts) {
	t.Helper()
	if r.Records != int64(want.Records) {
		t.Errorf("records: got %d; want %d", r.Records, want.Records)
	}
	if r.Denials != int64(want.Denials) {
		t.Errorf("denials: got %d; want %d", r.Denials, want.Denials)
	}
	for _, d := range []struct {
		name string
		got  map[string]int64
		want map[string]int
	}{
		{"errorCode", r.By.ErrorCode, want.ByCode},
		{"account", r.By.Account, want.ByAccount},
		{"region", r.By.Region, want.ByRegion},
		{"cause", r.By.Cause, want.ByCause},
		{"policyType", r.By.PolicyType, want.ByPolicyType},
	} {
		w := map[string]int64{}
		for k, v := range d.want {
			w[k] = int64(v)
		}
		if !maps.Equal(d.got, w) {
			t.Errorf("by %s: got %v; want %v", d.name, d.got, w)
		}
	}
	var sum int64
	for _, f := range r.Findings {
		sum += f.Count
	}
	if sum != r.Denials && len(r.Findings) == r.FindingCount {
		t.Errorf("findings add up to %d; want %d denials", sum, r.Denials)
	}
}

func TestRunCorpus(t *testing.T) {
	dir, truth := writeCorpus(t, corpus.Spec{Files: 12, RecordsPerFile: 300})
	r, err := Run(context.Background(), []string{dir}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Count(time.Time{}, time.Time{})
	if want.Denials == 0 {
		t.Fatal("corpus holds no denials")
	}
	checkCounts(t, r, want)
	if r.Inputs != 12 || !r.Complete() {
		t.Errorf("inputs: got %d (failed %v); want 12, none failed", r.Inputs, r.Failed)
	}
}

func TestRunWindow(t *testing.T) {
	dir, truth := writeCorpus(t, corpus.Spec{Files: 10, RecordsPerFile: 200})
	start := corpus.Defaults.Start
	tests := []struct {
		name         string
		since, until time.Time
	}{
		{"since", start.Add(20 * time.Hour), time.Time{}},
		{"until", time.Time{}, start.Add(7*time.Hour + 30*time.Minute)},
		{"both", start.Add(5 * time.Hour), start.Add(30 * time.Hour)},
		{"empty", start.Add(-48 * time.Hour), start.Add(-24 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), []string{dir}, Config{Since: tc.since, Until: tc.until})
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, r, truth.Count(tc.since, tc.until))
		})
	}
}

func TestRunFailedInputs(t *testing.T) {
	dir, truth := writeCorpus(t, corpus.Spec{Files: 4, RecordsPerFile: 100})
	var good string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && good == "" {
			good = p
		}
		return nil
	})
	gz, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	truncated := filepath.Join(bad, "truncated.json.gz")
	notTrail := filepath.Join(bad, "package.json")
	text := filepath.Join(bad, "notes.txt")
	broken := filepath.Join(bad, "broken-link.json.gz")
	mustWrite(t, truncated, gz[:len(gz)/2])
	mustWrite(t, notTrail, []byte(`{"name": "web", "version": "1.0.0", "dependencies": {"react": "^18.2.0"}}`))
	mustWrite(t, text, []byte("meeting notes\n"))
	if err := os.Symlink(filepath.Join(bad, "gone.json.gz"), broken); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(bad, "no-such-file.json")

	r, err := Run(context.Background(), []string{dir, bad, missing}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, r, truth.Count(time.Time{}, time.Time{}))
	failed := map[string]bool{}
	for _, f := range r.Failed {
		failed[f.Name] = true
		if f.Error == "" {
			t.Errorf("%s: failed without a reason", f.Name)
		}
	}
	for _, name := range []string{truncated, notTrail, text, broken, missing} {
		if !failed[name] {
			t.Errorf("%s not reported as failed; failed: %v", name, r.Failed)
		}
	}
	if len(r.Failed) != 5 {
		t.Errorf("failed inputs: got %v; want 5", r.Failed)
	}
	if r.Complete() {
		t.Error("Complete() = true with failed inputs")
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
