package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
)

// denialHandler receives each denial of an input with its explanation.
type denialHandler func(rec cloudtrail.Record, e denial.Explanation) error

// readDenialsFrom opens path ("-" is standard input) and calls fn for each
// denial in it; see readDenials.
func readDenialsFrom(sio stdio, cmd, path string, fn denialHandler) int {
	if path == "-" {
		return readDenials(sio, cmd, "stdin", sio.in, fn)
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(sio.err, "denyfix %s: %v\n", cmd, err)
		return exitUsage
	}
	defer f.Close()
	return readDenials(sio, cmd, path, f, fn)
}

// readDenials calls fn for each denial among the records of one input, in
// any shape cloudtrail.Reader reads. Values that are not CloudTrail records
// are reported and skipped. It returns exitOK when fn saw a denial, exitNone
// (with a one-line reason) when there was none, and exitUsage when the input
// is unreadable or fn failed.
func readDenials(sio stdio, cmd, name string, r io.Reader, fn denialHandler) int {
	rd := cloudtrail.NewReader(r)
	found := false
	for {
		rec, err := rd.Next()
		switch {
		case errors.Is(err, io.EOF):
			if found {
				return exitOK
			}
			what := "no denial among the records"
			if rd.Shape() == cloudtrail.ShapeText {
				what = "no access denied message found"
			}
			fmt.Fprintf(sio.err, "denyfix %s: %s: %s\n", cmd, name, what)
			return exitNone
		case errors.Is(err, cloudtrail.ErrNotCloudTrail):
			fmt.Fprintf(sio.err, "denyfix %s: %s: skipped: %v\n", cmd, name, err)
			continue
		case err != nil:
			fmt.Fprintf(sio.err, "denyfix %s: %s: %v\n", cmd, name, err)
			return exitUsage
		}
		e, ok := denial.Explain(rec)
		if !ok {
			continue
		}
		found = true
		if err := fn(rec, e); err != nil {
			fmt.Fprintf(sio.err, "denyfix %s: %s: %v\n", cmd, name, err)
			return exitUsage
		}
	}
}
