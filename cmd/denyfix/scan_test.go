package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/scan"
	"github.com/denyfix/denyfix/shared/scan/corpus"
)

func runScanArgs(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), stdio{in: strings.NewReader(stdin), out: &out, err: &errb}, append([]string{"scan"}, args...))
	return out.String(), errb.String(), code
}

func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	truth, err := corpus.WriteDir(dir, corpus.Spec{Files: 4, RecordsPerFile: 200, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Count(time.Time{}, time.Time{})
	bad := filepath.Join(t.TempDir(), "truncated.json.gz")
	if err := os.WriteFile(bad, []byte{0x1f, 0x8b, 0x08, 0x00, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("json", func(t *testing.T) {
		out, errOut, code := runScanArgs(t, "", "--format", "json", dir)
		if code != exitOK {
			t.Fatalf("exit: got %d; want %d (stderr %s)", code, exitOK, errOut)
		}
		if errOut != "" {
			t.Errorf("stderr: got %q; want nothing (not a terminal)", errOut)
		}
		var r struct{ Records, Denials int }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Records != want.Records || r.Denials != want.Denials {
			t.Errorf("records, denials: got %d, %d; want %d, %d", r.Records, r.Denials, want.Records, want.Denials)
		}
	})
	for _, format := range []string{"text", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := runScanArgs(t, "", "--format", format, "--top", "3", dir)
			if code != exitOK || out == "" {
				t.Fatalf("exit: got %d, %d bytes; want %d with a report (stderr %s)", code, len(out), exitOK, errOut)
			}
		})
	}
	t.Run("failed input", func(t *testing.T) {
		out, errOut, code := runScanArgs(t, "", "--format", "json", dir, bad)
		if code != exitNone {
			t.Errorf("exit: got %d; want %d", code, exitNone)
		}
		if !strings.Contains(errOut, bad) {
			t.Errorf("stderr does not name %s: %s", bad, errOut)
		}
		var r struct {
			Records int
			Failed  []struct{ Name string } `json:"failedInputs"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Records != want.Records || len(r.Failed) != 1 || r.Failed[0].Name != bad {
			t.Errorf("got records %d, failed %v; want %d and %s", r.Records, r.Failed, want.Records, bad)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		rec := `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"Access Denied","recipientAccountId":"123456789012"}`
		out, _, code := runScanArgs(t, `{"Records":[`+rec+`]}`, "--format", "json")
		if code != exitOK || !strings.Contains(out, `"denials": 1`) {
			t.Errorf("exit %d, output %s; want 0 and one denial", code, out)
		}
	})
	t.Run("since", func(t *testing.T) {
		since := corpus.Defaults.Start.Add(24 * time.Hour)
		out, _, code := runScanArgs(t, "", "--format", "json", "--since", since.Format(time.RFC3339), dir)
		var r struct{ Records, Denials int }
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
			t.Fatalf("exit %d, %v", code, err)
		}
		w := truth.Count(since, time.Time{})
		if r.Records != w.Records || r.Denials != w.Denials {
			t.Errorf("records, denials: got %d, %d; want %d, %d", r.Records, r.Denials, w.Records, w.Denials)
		}
	})
}

func TestScanUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"bad format", []string{"--format", "yaml", "x"}},
		{"bad since", []string{"--since", "yesterday", "x"}},
		{"since after until", []string{"--since", "2026-11-21T00:00:00Z", "--until", "2026-11-20T00:00:00Z", "x"}},
		{"negative top", []string{"--top", "-1", "x"}},
		{"unknown flag", []string{"--frobnicate", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, code := runScanArgs(t, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit: got %d; want %d", code, exitUsage)
			}
		})
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"2026-11-20T10:00:00Z", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"24h", now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
	}
	for _, tc := range tests {
		got, err := parseWhen(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseWhen("-3d", now); err == nil {
		t.Error(`parseWhen("-3d"): got nil error; want an error`)
	}
}

func TestProgressLine(t *testing.T) {
	var p scan.Progress
	p.FilesTotal.Store(10)
	p.Files.Store(4)
	p.BytesTotal.Store(40e6)
	p.Bytes.Store(10e6)
	got := progressLine(&p, 2*time.Second)
	want := "4/10 files, 10.0/40.0 MB, 5.0 MB/s, ETA 6s"
	if got != want {
		t.Errorf("progressLine: got %q; want %q", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestShowProgressStopClearsLine: once stop returns, the status line is
// cleared and never redrawn, so it cannot land in front of the report.
func TestShowProgressStopClearsLine(t *testing.T) {
	var w syncBuffer
	var p scan.Progress
	p.FilesTotal.Store(2)
	stop := showProgress(&w, &p)
	time.Sleep(300 * time.Millisecond) // at least one redraw
	stop()
	got := w.String()
	if !strings.Contains(got, "files") {
		t.Fatalf("progress: got %q; want a status line", got)
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("after stop: got %q; want it to end by clearing the line", got)
	}
	time.Sleep(300 * time.Millisecond)
	if again := w.String(); again != got {
		t.Errorf("after stop: %q written; want nothing", strings.TrimPrefix(again, got))
	}
}
