package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
)

// commandFlags is a command's flag set with what every command shares: its
// usage on --help (exit 0) and after a bad flag (exit 2), flags accepted
// anywhere among the arguments, and a checked --format.
type commandFlags struct {
	*flag.FlagSet
	sio     stdio
	format  *string
	formats []string
}

// newFlags returns the flag set of command name; usage is the text printed
// before the flags' defaults.
func newFlags(sio stdio, name, usage string) *commandFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(sio.err)
	fs.Usage = func() { fmt.Fprint(sio.err, usage); fs.PrintDefaults() }
	return &commandFlags{FlagSet: fs, sio: sio}
}

// formatFlag declares --format over formats, the first being the default.
func (f *commandFlags) formatFlag(help string, formats ...string) *string {
	f.formats = formats
	f.format = f.String("format", formats[0], "output format: "+help)
	return f.format
}

// parse parses args and returns the positional arguments. When ok is false
// the command stops with code: 0 after --help, 2 after a bad flag or format.
func (f *commandFlags) parse(args []string) (rest []string, code int, ok bool) {
	rest, err := parseInterleaved(f.FlagSet, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false
	case f.format != nil && !slices.Contains(f.formats, *f.format):
		fmt.Fprintf(f.sio.err, "denyfix %s: unknown --format %q (%s)\n", f.Name(), *f.format, strings.Join(f.formats, ", "))
		return nil, exitUsage, false
	}
	return rest, exitOK, true
}

// usageError prints the usage and returns the exit code for bad usage.
func (f *commandFlags) usageError() int {
	f.Usage()
	return exitUsage
}

// parseInterleaved parses flags wherever they stand among the arguments,
// so "approve FINGERPRINT --reason TEXT" reads as operators type it. A lone
// "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
