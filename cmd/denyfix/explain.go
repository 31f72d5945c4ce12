package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	fs := newFlags(sio, "explain", explainUsage)
	format := fs.formatFlag("text or json (one object per line)", "text", "json")
	message := fs.String("message", "", "explain this error message text instead of reading input")
	paths, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	out := explainWriter{w: sio.out, json: *format == "json"}
	if *message != "" {
		if len(paths) > 0 {
			fmt.Fprintln(sio.err, "denyfix explain: give --message or files, not both")
			return exitUsage
		}
		return readDenials(sio, "explain", "--message", strings.NewReader(*message), out.write)
	}
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	code = exitNone
	for _, p := range paths {
		code = worse(code, readDenialsFrom(sio, "explain", p, out.write))
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

// explainWriter prints explanations as JSON lines or as text blocks.
type explainWriter struct {
	w     io.Writer
	json  bool
	count int
}

func (x *explainWriter) write(_ cloudtrail.Record, e denial.Explanation) error {
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
	_, err := fmt.Fprint(x.w, denial.FormatText(&e))
	return err
}
