package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
)

const explainUsage = `Usage: denyfix explain [--format text|json] [FILE ...|-]
       denyfix explain --message TEXT

Explains AWS access denied errors offline: which policy type denied the call,
explicit or implicit, who, what, on which resource, and what to do next.
Input: an EventBridge event, a CloudTrail record, a CloudTrail log file
(plain or .gz), JSON Lines of records, or text holding the error message
(CLI, SDK, Terraform and CloudFormation wrappers included). With no FILE,
or with -, it reads standard input.

Exit status: 0 explained at least one denial, 1 no denial in the input,
2 bad usage or unreadable input.

Flags:
`

func runExplain(ctx context.Context, sio stdio, args []string) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	format := fs.String("format", "text", "output format: text or json (one object per line)")
	message := fs.String("message", "", "explain this error message text instead of reading input")
	fs.Usage = func() { fmt.Fprint(sio.err, explainUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(sio.err, "denyfix explain: unknown --format %q (text or json)\n", *format)
		return exitUsage
	}
	out := explainWriter{w: sio.out, json: *format == "json"}
	if *message != "" {
		if fs.NArg() > 0 {
			fmt.Fprintln(sio.err, "denyfix explain: give --message or files, not both")
			return exitUsage
		}
		return out.explainReader(sio, "--message", strings.NewReader(*message))
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	code := exitNone
	for _, p := range paths {
		var c int
		if p == "-" {
			c = out.explainReader(sio, "stdin", sio.in)
		} else {
			c = out.explainFile(sio, p)
		}
		code = worse(code, c)
	}
	return code
}

// worse combines per-input exit codes: unreadable input (2) outranks
// explained (0), which outranks no denial (1).
func worse(a, b int) int {
	switch {
	case a == exitUsage || b == exitUsage:
		return exitUsage
	case a == exitOK || b == exitOK:
		return exitOK
	}
	return exitNone
}

type explainWriter struct {
	w     io.Writer
	json  bool
	count int
}

func (x *explainWriter) explainFile(sio stdio, path string) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix explain: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	return x.explainReader(sio, path, f)
}

// explainReader explains every denial in one input. Values that are not
// CloudTrail records are reported and skipped; an unreadable input stops.
func (x *explainWriter) explainReader(sio stdio, name string, r io.Reader) int {
	rd := cloudtrail.NewReader(r)
	found := false
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, cloudtrail.ErrNotCloudTrail) {
			fmt.Fprintf(sio.err, "denyfix explain: %s: skipped: %v\n", name, err)
			continue
		}
		if err != nil {
			fmt.Fprintf(sio.err, "denyfix explain: %s: %v\n", name, err)
			return exitUsage
		}
		e, ok := denial.Explain(rec)
		if !ok {
			continue
		}
		found = true
		if err := x.write(&e); err != nil {
			fmt.Fprintf(sio.err, "denyfix explain: write: %v\n", err)
			return exitUsage
		}
	}
	if !found {
		if rd.Shape() == cloudtrail.ShapeText {
			fmt.Fprintf(sio.err, "denyfix explain: %s: no access denied message found\n", name)
		} else {
			fmt.Fprintf(sio.err, "denyfix explain: %s: no denial among the records\n", name)
		}
		return exitNone
	}
	return exitOK
}

func (x *explainWriter) write(e *denial.Explanation) error {
	if x.json {
		enc := json.NewEncoder(x.w)
		enc.SetEscapeHTML(false)
		return enc.Encode(e)
	}
	if x.count > 0 {
		if _, err := fmt.Fprintln(x.w); err != nil {
			return err
		}
	}
	x.count++
	_, err := fmt.Fprint(x.w, denial.FormatText(e))
	return err
}
