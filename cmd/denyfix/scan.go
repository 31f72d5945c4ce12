package main

import (
	"context"
	"errors"
	"flag"
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

// runScan summarises the denials in CloudTrail logs. Exit 0 when every input
// was read, 1 when some failed (the report is still printed), 2 on bad usage.
func runScan(ctx context.Context, io stdio, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(io.err)
	format := fs.String("format", "text", "output format: text, json, markdown or html")
	since := fs.String("since", "", "only events at or after T (RFC3339, or relative: 24h, 7d)")
	until := fs.String("until", "", "only events before T (RFC3339, or relative: 24h, 7d)")
	top := fs.Int("top", 10, "rows per table and findings shown (0: all)")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "Usage: denyfix scan [--format text|json|markdown|html] [--since T] [--until T] [--top N] PATH...")
		fmt.Fprintln(io.err, "PATH is a CloudTrail log file (.json or .json.gz), a directory, s3://bucket/prefix, or - for stdin.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	now := time.Now()
	var cfg scan.Config
	var err error
	if cfg.Since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(io.err, "denyfix scan: --since: %v\n", err)
		return exitUsage
	}
	if cfg.Until, err = parseWhen(*until, now); err != nil {
		fmt.Fprintf(io.err, "denyfix scan: --until: %v\n", err)
		return exitUsage
	}
	if !cfg.Since.IsZero() && !cfg.Until.IsZero() && !cfg.Since.Before(cfg.Until) {
		fmt.Fprintln(io.err, "denyfix scan: --since must be before --until")
		return exitUsage
	}
	if *top < 0 {
		fmt.Fprintln(io.err, "denyfix scan: --top must be 0 or more")
		return exitUsage
	}
	if !validFormat(*format) {
		fmt.Fprintf(io.err, "denyfix scan: unknown format %q (want %s)\n", *format, strings.Join(scan.Formats, ", "))
		return exitUsage
	}
	paths := fs.Args()
	if len(paths) == 0 {
		if isTerminal(io.in) {
			fs.Usage()
			return exitUsage
		}
		paths = []string{"-"}
	}
	cfg.Top, cfg.Stdin = *top, io.in
	for _, p := range paths {
		if strings.HasPrefix(p, "s3://") {
			awsCfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				fmt.Fprintf(io.err, "denyfix scan: AWS configuration: %v\n", err)
				return exitUsage
			}
			cfg.S3 = s3.NewFromConfig(awsCfg)
			break
		}
	}
	if isTerminal(io.err) {
		cfg.Progress = &scan.Progress{}
		stop := showProgress(io.err, cfg.Progress)
		defer stop()
	}
	r, err := scan.Run(ctx, paths, cfg)
	if cfg.Progress != nil {
		fmt.Fprint(io.err, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintf(io.err, "denyfix scan: %v\n", err)
		if ctx.Err() != nil {
			return exitInternal
		}
		return exitUsage
	}
	if err := scan.Render(io.out, *format, r, *top); err != nil {
		fmt.Fprintf(io.err, "denyfix scan: %v\n", err)
		return exitInternal
	}
	for _, f := range r.Failed {
		fmt.Fprintf(io.err, "denyfix scan: %s: %s\n", f.Name, f.Error)
	}
	if !r.Complete() {
		fmt.Fprintf(io.err, "denyfix scan: %d of %d inputs failed; the report covers the rest\n", len(r.Failed), r.Inputs)
		return exitNone
	}
	return exitOK
}

func validFormat(f string) bool {
	for _, x := range scan.Formats {
		if f == x {
			return true
		}
	}
	return false
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

// showProgress redraws one status line on w until stop is called.
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
	return func() { close(done); <-finished }
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
