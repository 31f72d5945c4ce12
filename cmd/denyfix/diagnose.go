package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/diagnosis"
	"github.com/denyfix/denyfix/shared/s3probe"
)

const diagnoseUsage = `Usage: denyfix diagnose [--format text|json] [--timeout D] [--assume-role-event FILE] EVENT_FILE|-

Diagnoses an access denied event live: the offline explanation plus
read-only checks of the bucket's configuration (object ownership, bucket
policy Deny conditions and Allows, ARN mistakes, Block Public Access,
SSE-KMS key policy, Requester Pays, missing objects, access point and VPC
endpoint policies), run concurrently. With --assume-role-event, the
session policy of the AssumeRole call that created the caller's session
(its CloudTrail record) is checked too. It prints the cause, the evidence of
every check with the API calls it made, and the proposed fix.

Input: an EventBridge event, a CloudTrail record or log file, JSON Lines;
- reads standard input. Credentials and region come from the usual AWS
configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ~/.aws); the
checks only read.

Exit status: 0 diagnosed at least one denial, 1 no denial in the input,
2 bad usage or unreadable input.

Flags:
`

func runDiagnose(ctx context.Context, sio stdio, args []string) int {
	fs := newFlags(sio, "diagnose", diagnoseUsage)
	format := fs.formatFlag("text or json (one object per line)", "text", "json")
	timeout := fs.Duration("timeout", diagnosis.DefaultDeadline, "bound on all checks of one diagnosis")
	assumeFile := fs.String("assume-role-event", "", "CloudTrail record or event of the AssumeRole call behind the session, to check its session policy")
	paths, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(paths) != 1 || *timeout <= 0 {
		return fs.usageError()
	}
	var assumeRole *cloudtrail.Record
	if *assumeFile != "" {
		rec, err := readAssumeRole(*assumeFile)
		if err != nil {
			fmt.Fprintf(sio.err, "denyfix diagnose: --assume-role-event: %v\n", err)
			return exitUsage
		}
		assumeRole = &rec
	}

	var runner *diagnosis.Runner
	count := 0
	return readDenialsFrom(sio, "diagnose", paths[0], func(rec cloudtrail.Record, _ denial.Explanation) error {
		if runner == nil {
			// Load the AWS configuration only once a denial needs it, so
			// bad input fails fast and offline.
			var err error
			if runner, err = newDiagnoseRunner(ctx, sio, rec, *timeout); err != nil {
				return fmt.Errorf("AWS configuration: %w", err)
			}
		}
		d, ok := runner.DiagnoseSession(ctx, rec, assumeRole)
		if !ok { // cannot happen: readDenials passes only what Explain accepts
			return nil
		}
		if count > 0 && *format == "text" {
			fmt.Fprintln(sio.out)
		}
		count++
		if err := writeDiagnosis(sio.out, &d, *format == "json"); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	})
}

// readAssumeRole returns the first AssumeRole-family record of a file.
func readAssumeRole(path string) (cloudtrail.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return cloudtrail.Record{}, err
	}
	defer f.Close()
	rd := cloudtrail.NewReader(f)
	for {
		rec, err := rd.Next()
		switch {
		case errors.Is(err, io.EOF):
			return cloudtrail.Record{}, fmt.Errorf("%s: no AssumeRole record", path)
		case errors.Is(err, cloudtrail.ErrNotCloudTrail):
			continue
		case err != nil:
			return cloudtrail.Record{}, fmt.Errorf("%s: %w", path, err)
		}
		if strings.HasPrefix(rec.EventName, "AssumeRole") || rec.EventName == "GetFederationToken" {
			return rec, nil
		}
	}
}

// newDiagnoseRunner builds the read-only clients from the default AWS
// configuration. Without a configured region the event's region is used,
// which is where its bucket answers.
func newDiagnoseRunner(ctx context.Context, sio stdio, rec cloudtrail.Record, timeout time.Duration) (*diagnosis.Runner, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		fmt.Fprintln(sio.err, "denyfix diagnose: warning: no AWS credentials configured; every live check will report why it could not run")
	} else if _, err := retrieveCredentials(ctx, cfg); err != nil {
		fmt.Fprintf(sio.err, "denyfix diagnose: warning: AWS credentials unavailable (%v); every live check will report why it could not run\n", err)
	}
	if cfg.Region == "" {
		cfg.Region = rec.AWSRegion
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	local := cfg.BaseEndpoint != nil
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Local endpoints (AWS_ENDPOINT_URL) serve buckets by path only.
		o.UsePathStyle = o.UsePathStyle || local
	})
	ctl := s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		if local {
			o.EndpointResolverV2 = s3probe.StaticControlEndpoint{URL: aws.ToString(cfg.BaseEndpoint)}
		}
	})
	return &diagnosis.Runner{
		Prober:   s3probe.New(s3c, ctl, kms.NewFromConfig(cfg), ec2.NewFromConfig(cfg)),
		Deadline: timeout,
	}, nil
}

// retrieveCredentials resolves the credentials once, bounded: an SSO login
// or an unreachable instance metadata service must not hang the command.
func retrieveCredentials(ctx context.Context, cfg aws.Config) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cfg.Credentials.Retrieve(ctx)
}

func writeDiagnosis(w io.Writer, d *diagnosis.Diagnosis, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(d)
	}
	_, err := io.WriteString(w, formatDiagnosis(d))
	return err
}

// formatDiagnosis is the explanation's text followed by the evidence, one
// scannable line per check, and the proposed fix.
func formatDiagnosis(d *diagnosis.Diagnosis) string {
	var b strings.Builder
	b.WriteString(denial.FormatText(&d.Explanation))
	if len(d.Evidence) > 0 {
		b.WriteString("\n  Evidence:\n")
		for _, c := range d.Evidence {
			mark := map[s3probe.Result]string{s3probe.ResultPass: "ok  ", s3probe.ResultFail: "FAIL", s3probe.ResultSkipped: "--  ", s3probe.ResultUnknown: "??  "}[c.Result]
			fmt.Fprintf(&b, "  %s %-30s %s", mark, c.Name, c.Detail)
			if len(c.Calls) > 0 {
				fmt.Fprintf(&b, "  [%s]", strings.Join(c.Calls, ", "))
			}
			b.WriteString("\n")
		}
	}
	if d.Fix != nil {
		fmt.Fprintf(&b, "\n  Proposed fix (%s): %s\n", d.Fix.Kind, d.Fix.Summary)
		if d.Fix.Command != "" {
			fmt.Fprintf(&b, "    %s\n", d.Fix.Command)
		}
		for _, p := range d.Fix.Preconditions {
			fmt.Fprintf(&b, "    precondition: %s\n", p)
		}
	}
	return b.String()
}
