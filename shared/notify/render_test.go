package notify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/bus"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func loadDetail(t *testing.T) bus.Detail {
	t.Helper()
	raw, err := os.ReadFile("testdata/detail.json")
	if err != nil {
		t.Fatal(err)
	}
	var d bus.Detail
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestRenderGolden renders every bus event type for one finding and
// compares the Chatbot JSON, the email text and the attributes with golden
// files (refresh with go test -update).
func TestRenderGolden(t *testing.T) {
	d := loadDetail(t)
	for _, dt := range bus.DetailTypes() {
		t.Run(dt.Kebab(), func(t *testing.T) {
			n, err := Render(dt, "2c6f1d9e-7b3a-4f5e-9a1c-8d0e2b4f6a13", d)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, dt.Kebab()+".chatbot.json", append(n.Chatbot, '\n'))
			golden(t, dt.Kebab()+".txt", []byte("Subject: "+n.Subject+"\n\n"+n.Text))
			keys := make([]string, 0, len(n.Attributes))
			for k := range n.Attributes {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var attrs strings.Builder
			for _, k := range keys {
				attrs.WriteString(k + "=" + n.Attributes[k] + "\n")
			}
			golden(t, dt.Kebab()+".attributes", []byte(attrs.String()))

			var cb Chatbot
			if err := json.Unmarshal(n.Chatbot, &cb); err != nil {
				t.Fatal(err)
			}
			if cb.Version != "1.0" || cb.Source != "custom" || cb.Content.TextType != "client-markdown" {
				t.Errorf("header = %q %q %q; want 1.0 custom client-markdown", cb.Version, cb.Source, cb.Content.TextType)
			}
			if cb.Metadata.EventType != dt.String() || cb.Metadata.ThreadID != "denyfix-"+d.Fingerprint {
				t.Errorf("metadata = %+v; want eventType %q and the finding's thread", cb.Metadata, dt)
			}
			if len(n.Subject) > 100 || strings.ContainsAny(n.Subject, "\r\n") {
				t.Errorf("subject %q is not a valid SNS subject", n.Subject)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "denyfix: Fix applied", "denyfix: Fix applied"},
		{"newline and unicode", "a\nb…", "a b?"},
		{"long", strings.Repeat("x", 150), strings.Repeat("x", 96) + "..."}, // SNS wants fewer than 100
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := subject(tc.in); got != tc.want {
				t.Errorf("subject(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRenderBrokenExplanation(t *testing.T) {
	d := loadDetail(t)
	d.Explanation = json.RawMessage(`{"cause":"not-a-cause"}`)
	if _, err := Render(bus.DenialDiagnosed, "x", d); err == nil {
		t.Error("Render with a broken explanation = nil error; want one")
	}
}
