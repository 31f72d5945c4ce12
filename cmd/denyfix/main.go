// Command denyfix explains AWS access denied errors: offline from a message,
// an event or a CloudTrail log (explain), live with read-only probes
// (diagnose), over days of CloudTrail logs (scan), and end to end against a
// local moto server (demo); operators list proposed fixes (proposals) and
// approve, reject or roll them back (approve, reject, rollback).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK       = 0 // something was explained or done
	exitNone     = 1 // the input held no denial (or some inputs failed, for scan)
	exitUsage    = 2 // bad usage or unreadable input
	exitInternal = 3 // an unexpected failure
)

// stdio is what a command reads and writes, so tests can run commands in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand of denyfix.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, sio stdio, args []string) int
}

var commands = []command{
	{"explain", "explain a denial offline: message, event, record or CloudTrail log", runExplain},
	{"diagnose", "diagnose a denial live: explanation plus read-only AWS probes", runDiagnose},
	{"scan", "summarise the denials in CloudTrail logs (files, dirs, s3://)", runScan},
	{"proposals", "list proposed fixes, or show one in full (proposals show FINGERPRINT)", runProposals},
	{"approve", "approve a proposed fix through the signed approve URL", runApprove},
	{"reject", "reject a proposed fix through the signed approve URL", runReject},
	{"rollback", "roll an applied fix back through the signed approve URL", runRollback},
	{"demo", "run the whole pipeline against a local moto server", runDemo},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, sio stdio, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(sio.out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, sio, args[1:])
		}
	}
	fmt.Fprintf(sio.err, "denyfix: unknown command %q (see denyfix --help)\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "denyfix explains AWS AccessDenied errors and fixes the safe ones.")
	fmt.Fprintln(w, "\nUsage: denyfix <command> [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'denyfix <command> --help' for a command's flags.")
}
