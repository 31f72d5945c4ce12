package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/denyfix/denyfix/shared/scan"
)

const scanUsage = `Usage: denyfix scan [--format text|json|markdown|html] [--since T] [--until T] [--top N] PATH...

Summarises the denials in CloudTrail logs: counts by error code, cause,
policy type, principal, action, resource, account and region, the top
findings with their explanation and next steps, and a timeline.
PATH is a CloudTrail log file (.json or .json.gz), a directory (read
recursively), s3://bucket/prefix (the CloudTrail bucket layout), or - for
standard input. Progress goes to stderr when it is a terminal.

Exit status: 0 every input was read, 1 some inputs failed (the report is
still printed), 2 bad usage.

Flags:
`

// runScan summarises the denials in CloudTrail logs. Exit 0 when every input
// was read, 1 when some failed (the report is still printed), 2 on bad usage.
func runScan(ctx context.Context, sio stdio, args []string) int {
	fs := newFlags(sio, "scan", scanUsage)
	format := fs.formatFlag(strings.Join(scan.Formats, ", "), scan.Formats...)
	since := fs.String("since", "", "only events at or after T (RFC3339, or relative: 24h, 7d)")
	until := fs.String("until", "", "only events before T (RFC3339, or relative: 24h, 7d)")
	top := fs.Int("top", 10, "rows per table and findings shown (0: all)")
	paths, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	now := time.Now()
	var cfg scan.Config
	var err error
	if cfg.Since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(sio.err, "denyfix scan: --since: %v\n", err)
		return exitUsage
	}
	if cfg.Until, err = parseWhen(*until, now); err != nil {
		fmt.Fprintf(sio.err, "denyfix scan: --until: %v\n", err)
		return exitUsage
	}
	if !cfg.Since.IsZero() && !cfg.Until.IsZero() && !cfg.Since.Before(cfg.Until) {
		fmt.Fprintln(sio.err, "denyfix scan: --since must be before --until")
		return exitUsage
	}
	if *top < 0 {
		fmt.Fprintln(sio.err, "denyfix scan: --top must be 0 or more")
		return exitUsage
	}
	if len(paths) == 0 {
		if isTerminal(sio.in) {
			return fs.usageError()
		}
		paths = []string{"-"}
	}
	cfg.Top, cfg.Stdin = *top, sio.in
	for _, p := range paths {
		if strings.HasPrefix(p, "s3://") {
			awsCfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				fmt.Fprintf(sio.err, "denyfix scan: AWS configuration: %v\n", err)
				return exitUsage
			}
			cfg.S3 = s3.NewFromConfig(awsCfg)
			break
		}
	}
	stop := func() {}
	if isTerminal(sio.err) {
		cfg.Progress = &scan.Progress{}
		stop = showProgress(sio.err, cfg.Progress)
	}
	r, err := scan.Run(ctx, paths, cfg)
	stop()
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix scan: %v\n", err)
		if ctx.Err() != nil {
			return exitInternal
		}
		return exitUsage
	}
	if err := scan.Render(sio.out, *format, r, *top); err != nil {
		fmt.Fprintf(sio.err, "denyfix scan: %v\n", err)
		return exitInternal
	}
	for _, f := range r.Failed {
		fmt.Fprintf(sio.err, "denyfix scan: %s: %s\n", f.Name, f.Error)
	}
	if !r.Complete() {
		fmt.Fprintf(sio.err, "denyfix scan: %d of %d inputs failed; the report covers the rest\n", len(r.Failed), r.Inputs)
		return exitNone
	}
	return exitOK
}

// parseWhen reads an RFC3339 time, a date (2006-01-02), or a duration
// before now: Go durations (90m, 24h) or days (7d).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err == nil && n >= 0 {
			return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC3339 (2026-11-20T10:00:00Z), a date, nor a duration ago (24h, 7d)", s)
}

// isTerminal reports whether v is a character device: progress and prompts
// go only to a person, never into a pipe or a file.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// showProgress redraws one status line on w until stop is called; stop
// waits for the last redraw and clears the line, so nothing is drawn over
// the report or the messages that follow.
func showProgress(w io.Writer, p *scan.Progress) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprint(w, "\r\033[K"+progressLine(p, time.Since(start)))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		fmt.Fprint(w, "\r\033[K")
	}
}

// progressLine says files and MB done, the rate and the time left.
func progressLine(p *scan.Progress, elapsed time.Duration) string {
	files, filesTotal := p.Files.Load(), p.FilesTotal.Load()
	b, total := p.Bytes.Load(), p.BytesTotal.Load()
	rate := float64(b) / max(elapsed.Seconds(), 0.001)
	line := fmt.Sprintf("%d/%d files, %.1f/%.1f MB, %.1f MB/s", files, filesTotal, float64(b)/1e6, float64(total)/1e6, rate/1e6)
	if rate > 0 && total > b {
		eta := time.Duration(float64(total-b) / rate * float64(time.Second))
		line += ", ETA " + eta.Round(time.Second).String()
	}
	return line
}
