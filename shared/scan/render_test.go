package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/scan/corpus"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rowPatterns say how each format writes one counted row and a total.
var rowPatterns = map[string]struct {
	row, total func(k string, n int64) string
}{
	"text": {
		row:   func(k string, n int64) string { return `(?m)^  ` + regexp.QuoteMeta(k) + ` +` + fmt.Sprint(n) + `$` },
		total: func(k string, n int64) string { return `(?m)^` + k + `: ` + fmt.Sprint(n) + `$` },
	},
	"markdown": {
		row: func(k string, n int64) string {
			return `(?m)^\| ` + regexp.QuoteMeta(mdEscape(k)) + ` \| ` + fmt.Sprint(n) + ` \|$`
		},
		total: func(k string, n int64) string { return `(?m)^\| ` + k + ` \| ` + fmt.Sprint(n) + ` \|$` },
	},
	"html": {
		row: func(k string, n int64) string {
			return `<tr><td>` + regexp.QuoteMeta(html.EscapeString(k)) + `</td><td class="n">` + fmt.Sprint(n) + `</td></tr>`
		},
		total: func(k string, n int64) string { return `id="` + strings.ToLower(k) + `">` + fmt.Sprint(n) + `<` },
	},
}

// TestFormatsReportCorpusCounts renders a scan of a generated corpus in
// every format and finds in each the exact counts the corpus was built with.
func TestFormatsReportCorpusCounts(t *testing.T) {
	dir, truth := writeCorpus(t, corpus.Spec{Files: 6, RecordsPerFile: 400, Seed: 7})
	r, err := Run(context.Background(), []string{dir}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Count(time.Time{}, time.Time{})
	dims := map[string]map[string]int{
		"errorCode": want.ByCode, "cause": want.ByCause, "policyType": want.ByPolicyType,
		"account": want.ByAccount, "region": want.ByRegion,
	}

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := JSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Records, Denials int
			By               map[string]map[string]int
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Records != want.Records || got.Denials != want.Denials {
			t.Errorf("records, denials: got %d, %d; want %d, %d", got.Records, got.Denials, want.Records, want.Denials)
		}
		for name, w := range dims {
			if fmt.Sprint(got.By[name]) != fmt.Sprint(w) {
				t.Errorf("by %s: got %v; want %v", name, got.By[name], w)
			}
		}
	})
	for _, format := range []string{"text", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, format, r, 0); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			p := rowPatterns[format]
			for _, tot := range []struct {
				name string
				n    int
			}{{"Records", want.Records}, {"Denials", want.Denials}} {
				if !regexp.MustCompile(p.total(tot.name, int64(tot.n))).MatchString(out) {
					t.Errorf("%s %d not found in:\n%s", tot.name, tot.n, out)
				}
			}
			for name, w := range dims {
				for k, n := range w {
					if !regexp.MustCompile(p.row(k, int64(n))).MatchString(out) {
						t.Errorf("by %s: row %s %d not found", name, k, n)
					}
				}
			}
		})
	}
}

// fixedReport is a small report with awkward values: markup, pipes and
// quotes that every renderer must escape.
func fixedReport() *Report {
	tl := newTally()
	at := time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)
	for i, msg := range []string{"Access Denied", "Access Denied", "<script>alert(1)</script> | `x`"} {
		rec := cloudtrail.Record{
			EventTime: at.Add(time.Duration(i) * time.Hour).Format(time.RFC3339), EventSource: "s3.amazonaws.com",
			EventName: "GetObject", AWSRegion: "us-east-1", ErrorCode: "AccessDenied", ErrorMessage: msg,
			RecipientAccountID: "123456789012", EventID: fmt.Sprintf("0a1b2c3d-0000-4000-8000-00000000000%d", i),
			UserIdentity: cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "123456789012",
				ARN: "arn:aws:sts::123456789012:assumed-role/app<x>/i-0abc|def"},
			RequestParameters: []byte(`{"bucketName":"reports<2026>","key":"q3|summary.csv"}`),
		}
		e := explain(&rec)
		e.Summary = "S3 refused the call <b>without</b> saying which policy | why."
		e.NextSteps = []string{"Run `aws s3api get-bucket-policy --bucket a|b`", "Check <the> key policy"}
		tl.records += 3
		tl.add(&e, at.Add(time.Duration(i)*time.Hour))
	}
	r := tl.report(0)
	r.Inputs = 2
	r.Failed = []InputError{{Name: "logs/<bad>.json.gz", Error: "gzip: unexpected EOF"}}
	return r
}

func TestRenderGolden(t *testing.T) {
	r := fixedReport()
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, format, r, 5); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("%s differs from %s (go test -update to refresh):\n%s", format, golden, buf.String())
			}
		})
	}
}

func TestHTMLEscapesAndIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, fixedReport(), 0); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script", "<b>", "<bad>", "<the>", "src=", "href=", "@import", "url("} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML holds %q: unescaped value or external asset", bad)
		}
	}
	if !strings.Contains(out, "<svg") || !strings.Contains(out, "<rect") {
		t.Error("HTML has no inline SVG timeline")
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, "yaml", fixedReport(), 0); err == nil {
		t.Error("Render(yaml): got nil error; want an error")
	}
}
