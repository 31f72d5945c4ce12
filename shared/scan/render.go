package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the output formats the renderers produce.
var Formats = []string{"text", "json", "markdown", "html"}

// Render writes r in format ("text", "json", "markdown" or "html"),
// showing at most top rows per table (0: all).
func Render(w io.Writer, format string, r *Report, top int) error {
	switch format {
	case "text":
		return Text(w, r, top)
	case "json":
		return JSON(w, r)
	case "markdown":
		return Markdown(w, r, top)
	case "html":
		return HTML(w, r, top)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the report as one indented JSON object, for scripts.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// dimension is one table of the report: a title and its counts.
type dimension struct {
	Title string
	Rows  []KeyCount
	More  int // rows left out
}

func dimensions(r *Report, top int) []dimension {
	var out []dimension
	for _, d := range []struct {
		title string
		m     map[string]int64
	}{
		{"By error code", r.By.ErrorCode}, {"By cause", r.By.Cause}, {"By policy type", r.By.PolicyType},
		{"By account", r.By.Account}, {"By region", r.By.Region}, {"By principal", r.By.Principal},
		{"By action", r.By.Action}, {"By resource", r.By.Resource},
	} {
		rows := Sorted(d.m, top)
		out = append(out, dimension{Title: d.title, Rows: rows, More: len(d.m) - len(rows)})
	}
	return out
}

func window(r *Report) string {
	f := func(t *time.Time, open string) string {
		if t == nil {
			return open
		}
		return t.Format(time.RFC3339)
	}
	return f(r.Since, "beginning") + " to " + f(r.Until, "end")
}

func findings(r *Report, top int) []Finding {
	if top > 0 && len(r.Findings) > top {
		return r.Findings[:top]
	}
	return r.Findings
}

// Text writes aligned plain-text tables, for a terminal.
func Text(w io.Writer, r *Report, top int) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Records: %d\nDenials: %d\nInputs: %d (%d failed)\nWindow: %s\n", r.Records, r.Denials, r.Inputs, len(r.Failed), window(r))
	if r.First != nil {
		fmt.Fprintf(&b, "Denials from %s to %s\n", r.First.Format(time.RFC3339), r.Last.Format(time.RFC3339))
	}
	for _, f := range r.Failed {
		fmt.Fprintf(&b, "FAILED %s: %s\n", f.Name, f.Error)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, d := range dimensions(r, top) {
		fmt.Fprintf(tw, "\n%s\n", d.Title)
		for _, kc := range d.Rows {
			fmt.Fprintf(tw, "  %s\t%d\n", kc.Key, kc.Count)
		}
		if d.More > 0 {
			fmt.Fprintf(tw, "  (%d more)\n", d.More)
		}
	}
	tw.Flush()
	fs := findings(r, top)
	fmt.Fprintf(&b, "\nTop findings (%d of %d)\n", len(fs), r.FindingCount)
	for i, f := range fs {
		fmt.Fprintf(&b, "\n%d. %d× %s %s on %s\n", i+1, f.Count, f.Principal, f.Action, f.Resource)
		fmt.Fprintf(&b, "   account %s, %s, cause %s, policy %s, %s to %s\n", f.Account, f.ErrorCode, f.Cause, f.PolicyType,
			f.FirstSeen.Format(time.RFC3339), f.LastSeen.Format(time.RFC3339))
		if f.Summary != "" {
			fmt.Fprintf(&b, "   %s\n", f.Summary)
		}
		for j, s := range f.NextSteps {
			fmt.Fprintf(&b, "   %d) %s\n", j+1, s)
		}
	}
	fmt.Fprintf(&b, "\nTimeline (denials per %s)\n", r.Timeline.Bucket)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	peak := peakOf(r.Timeline)
	for _, p := range r.Timeline.Points {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", pointLabel(r.Timeline, p), p.Count, strings.Repeat("#", barLen(p.Count, peak, 40)))
	}
	tw.Flush()
	_, err := w.Write(b.Bytes())
	return err
}

func peakOf(tl Timeline) int64 {
	var peak int64
	for _, p := range tl.Points {
		peak = max(peak, p.Count)
	}
	return peak
}

func barLen(n, peak int64, width int) int {
	if peak == 0 || n == 0 {
		return 0
	}
	return max(1, int(n*int64(width)/peak))
}

func pointLabel(tl Timeline, p Point) string {
	if tl.Bucket != "hour" {
		return p.Start.Format("2006-01-02")
	}
	return p.Start.Format("2006-01-02 15:04Z")
}

// mdEscape makes a value safe inside a markdown table cell.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// Markdown writes GitHub-flavoured markdown, for tickets.
func Markdown(w io.Writer, r *Report, top int) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Access denials\n\n| | |\n|---|--:|\n| Records | %d |\n| Denials | %d |\n| Inputs | %d |\n| Failed inputs | %d |\n\nWindow: %s\n",
		r.Records, r.Denials, r.Inputs, len(r.Failed), window(r))
	if len(r.Failed) > 0 {
		b.WriteString("\n## Failed inputs\n\n")
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", strings.ReplaceAll(f.Name, "`", "'"), mdEscape(f.Error))
		}
	}
	for _, d := range dimensions(r, top) {
		fmt.Fprintf(&b, "\n## %s\n\n| Value | Denials |\n|---|--:|\n", d.Title)
		for _, kc := range d.Rows {
			fmt.Fprintf(&b, "| %s | %d |\n", mdEscape(kc.Key), kc.Count)
		}
		if d.More > 0 {
			fmt.Fprintf(&b, "\n%d more not shown.\n", d.More)
		}
	}
	fs := findings(r, top)
	fmt.Fprintf(&b, "\n## Top findings (%d of %d)\n", len(fs), r.FindingCount)
	for i, f := range fs {
		fmt.Fprintf(&b, "\n### %d. %s on %s (%d)\n\n", i+1, mdEscape(f.Action), mdEscape(f.Resource), f.Count)
		fmt.Fprintf(&b, "- Principal: %s\n- Account: %s\n- Error code: %s\n- Cause: %s\n- Policy type: %s\n- Seen: %s to %s\n",
			mdEscape(f.Principal), mdEscape(f.Account), mdEscape(f.ErrorCode), f.Cause, f.PolicyType,
			f.FirstSeen.Format(time.RFC3339), f.LastSeen.Format(time.RFC3339))
		if f.Summary != "" {
			fmt.Fprintf(&b, "\n%s\n", mdEscape(f.Summary))
		}
		if len(f.NextSteps) > 0 {
			b.WriteString("\nNext steps:\n\n")
			for j, s := range f.NextSteps {
				fmt.Fprintf(&b, "%d. %s\n", j+1, mdEscape(s))
			}
		}
	}
	fmt.Fprintf(&b, "\n## Timeline (denials per %s)\n\n| Start | Denials |\n|---|--:|\n", r.Timeline.Bucket)
	for _, p := range r.Timeline.Points {
		fmt.Fprintf(&b, "| %s | %d |\n", pointLabel(r.Timeline, p), p.Count)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// bar is one column of the timeline chart.
type bar struct {
	X, Y, W, H float64
	Label      string
	Count      int64
}

// chart lays out the timeline as SVG bars in a 800×200 box.
func chart(tl Timeline) []bar {
	const width, height = 800.0, 200.0
	peak := peakOf(tl)
	n := len(tl.Points)
	if n == 0 {
		return nil
	}
	w := width / float64(n)
	out := make([]bar, n)
	for i, p := range tl.Points {
		h := 0.0
		if peak > 0 {
			h = float64(p.Count) / float64(peak) * (height - 20)
		}
		out[i] = bar{X: float64(i) * w, Y: height - h, W: max(w-1, 0.5), H: h, Label: pointLabel(tl, p), Count: p.Count}
	}
	return out
}

var htmlReport = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>denyfix scan: {{.R.Denials}} denials</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.fail{color:#b00}
svg rect{fill:#c0392b}h2{margin-top:1.5em}code{background:#f4f4f4}
</style></head><body>
<h1>Access denials</h1>
<table><tr><th>Records</th><td class="n" id="records">{{.R.Records}}</td></tr>
<tr><th>Denials</th><td class="n" id="denials">{{.R.Denials}}</td></tr>
<tr><th>Inputs</th><td class="n">{{.R.Inputs}}</td></tr>
<tr><th>Failed inputs</th><td class="n">{{len .R.Failed}}</td></tr>
<tr><th>Window</th><td>{{.Window}}</td></tr></table>
{{if .R.Failed}}<h2 class="fail">Failed inputs</h2><ul>{{range .R.Failed}}<li class="fail"><code>{{.Name}}</code>: {{.Error}}</li>{{end}}</ul>{{end}}
<h2>Timeline (denials per {{.R.Timeline.Bucket}})</h2>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 200" width="800" height="200" role="img" aria-label="denials over time">
{{range .Bars}}<rect x="{{printf "%.2f" .X}}" y="{{printf "%.2f" .Y}}" width="{{printf "%.2f" .W}}" height="{{printf "%.2f" .H}}"><title>{{.Label}}: {{.Count}}</title></rect>
{{end}}</svg>
{{range .Dims}}<h2>{{.Title}}</h2><table><tr><th>Value</th><th>Denials</th></tr>
{{range .Rows}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>{{if .More}}<p>{{.More}} more not shown.</p>{{end}}
{{end}}
<h2>Top findings ({{len .Findings}} of {{.R.FindingCount}})</h2>
{{range $i, $f := .Findings}}<h3>{{$f.Action}} on {{$f.Resource}} ({{$f.Count}})</h3>
<table><tr><th>Principal</th><td>{{$f.Principal}}</td></tr><tr><th>Account</th><td>{{$f.Account}}</td></tr>
<tr><th>Error code</th><td>{{$f.ErrorCode}}</td></tr><tr><th>Cause</th><td>{{$f.Cause}}</td></tr>
<tr><th>Policy type</th><td>{{$f.PolicyType}}</td></tr><tr><th>Seen</th><td>{{$f.FirstSeen}} to {{$f.LastSeen}}</td></tr></table>
{{if $f.Summary}}<p>{{$f.Summary}}</p>{{end}}{{if $f.NextSteps}}<ol>{{range $f.NextSteps}}<li>{{.}}</li>{{end}}</ol>{{end}}
{{end}}</body></html>
`))

// HTML writes a self-contained report page: inline style and an inline SVG
// timeline, no scripts or external assets; every value is escaped.
func HTML(w io.Writer, r *Report, top int) error {
	return htmlReport.Execute(w, map[string]any{
		"R": r, "Window": window(r), "Bars": chart(r.Timeline),
		"Dims": dimensions(r, top), "Findings": findings(r, top),
	})
}
