package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/denyfix/denyfix/shared/pipeline"
)

const decisionUsage = `Usage: denyfix %[1]s FINGERPRINT [--reason TEXT] [--url APPROVE_URL] [--format text|json]

%[2]s

The decision goes to the stack's approve function URL (output ApproveUrl),
signed with SigV4 by the usual AWS credentials (AWS_PROFILE, ~/.aws, SSO,
environment). --url overrides $DENYFIX_APPROVE_URL:
  export DENYFIX_APPROVE_URL=$(aws cloudformation describe-stacks --stack-name denyfix \
    --query "Stacks[0].Outputs[?OutputKey=='ApproveUrl'].OutputValue" --output text)
The caller needs lambda:InvokeFunctionUrl on the approve function, and its
ARN (or its role's) must be in the stack's ApproverArns.

Exit status: 0 done, 1 nothing changed (unknown fingerprint, or the
proposal is not in a state this decision applies to), 2 bad usage, not
allowed, or any other failure.

Flags:
`

// decisionHelp says what each decision does, for its usage text.
var decisionHelp = map[string]string{
	"approve":  "Approves a proposed fix; denyfix then re-checks its preconditions and applies it.",
	"reject":   "Rejects a proposed fix; it is never applied.",
	"rollback": "Rolls an applied fix back to the state saved before it, unless the\nresource has changed since.",
}

// decisionDone is the past tense each decision prints on success.
var decisionDone = map[string]string{"approve": "approved", "reject": "rejected", "rollback": "rolled back"}

// approveURLEnv names the environment variable holding the approve URL.
const approveURLEnv = "DENYFIX_APPROVE_URL"

// decisionTimeout bounds one decision: rollback restores S3 state inside
// the function (10 s timeout), so allow a little more than that.
const decisionTimeout = 30 * time.Second

func runApprove(ctx context.Context, sio stdio, args []string) int {
	return runDecision(ctx, sio, "approve", args)
}

func runReject(ctx context.Context, sio stdio, args []string) int {
	return runDecision(ctx, sio, "reject", args)
}

func runRollback(ctx context.Context, sio stdio, args []string) int {
	return runDecision(ctx, sio, "rollback", args)
}

func runDecision(ctx context.Context, sio stdio, decision string, args []string) int {
	prefix := "denyfix " + decision
	fs := newFlags(sio, decision, fmt.Sprintf(decisionUsage, decision, decisionHelp[decision]))
	reason := fs.String("reason", "", "why, recorded with the decision and sent in the notification")
	rawURL := fs.String("url", "", "approve function URL (default $"+approveURLEnv+")")
	format := fs.formatFlag("text, or json (the function's answer as returned)", "text", "json")
	rest, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(rest) != 1 || rest[0] == "" {
		return fs.usageError()
	}
	if *rawURL == "" {
		*rawURL = os.Getenv(approveURLEnv)
	}
	if *rawURL == "" {
		fmt.Fprintf(sio.err, "%s: no approve URL: give --url or set %s to the stack's ApproveUrl output (see --help)\n", prefix, approveURLEnv)
		return exitUsage
	}
	u, err := url.Parse(*rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fmt.Fprintf(sio.err, "%s: --url %q is not an http(s) URL\n", prefix, *rawURL)
		return exitUsage
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(sio.err, "%s: AWS configuration: %v\n", prefix, err)
		return exitUsage
	}
	region := regionFromURL(u)
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		fmt.Fprintf(sio.err, "%s: no region: the URL does not name one; set AWS_REGION\n", prefix)
		return exitUsage
	}
	if cfg.Credentials == nil {
		fmt.Fprintf(sio.err, "%s: no AWS credentials configured to sign the request\n", prefix)
		return exitUsage
	}
	c := &decisionClient{
		HTTP:        &http.Client{Timeout: decisionTimeout},
		Signer:      v4.NewSigner(),
		Credentials: cfg.Credentials,
		Region:      region,
		Now:         time.Now,
	}
	d := pipeline.Decision{Fingerprint: rest[0], Decision: decision, Reason: *reason}
	status, body, err := c.Send(ctx, u, d)
	if err != nil {
		fmt.Fprintf(sio.err, "%s: %v\n", prefix, err)
		return exitUsage
	}
	return reportDecision(sio, prefix, d, status, body, *format == "json")
}

// reportDecision prints the function's answer and maps its status to the
// exit code: 200 done, 404 and 409 nothing changed, the rest a failure.
func reportDecision(sio stdio, prefix string, d pipeline.Decision, status int, body []byte, asJSON bool) int {
	var ans pipeline.Answer
	isAnswer := json.Unmarshal(body, &ans) == nil && (ans.State != "" || ans.Error != "" || ans.Fingerprint != "")
	code := exitUsage
	switch status {
	case http.StatusOK:
		code = exitOK
	case http.StatusNotFound, http.StatusConflict:
		code = exitNone
	}
	if asJSON {
		out := bytes.TrimSpace(body)
		if len(out) > 0 {
			fmt.Fprintf(sio.out, "%s\n", out)
		}
		if code != exitOK {
			fmt.Fprintf(sio.err, "%s: HTTP %d\n", prefix, status)
		}
		return code
	}
	if code == exitOK {
		state := ans.State
		if state == "" {
			state = "unknown state"
		}
		fmt.Fprintf(sio.out, "%s: %s now %s\n", decisionDone[d.Decision], d.Fingerprint, state)
		return code
	}
	msg := strings.TrimSpace(string(body))
	if isAnswer {
		msg = ans.Error
		if ans.State != "" {
			msg += " (state " + ans.State + ")"
		}
	}
	fmt.Fprintf(sio.err, "%s: %s: HTTP %d: %s\n", prefix, d.Fingerprint, status, msg)
	if status == http.StatusForbidden {
		if isAnswer {
			// The function itself refused: the signature was fine.
			fmt.Fprintf(sio.err, "%s: your ARN (or its role's) must be in the stack's ApproverArns\n", prefix)
		} else {
			// Lambda refused before the function ran.
			fmt.Fprintf(sio.err, "%s: check the credentials and that they allow lambda:InvokeFunctionUrl on the approve function\n", prefix)
		}
	}
	return code
}

// decisionClient posts decisions to the approve function URL. Its
// AuthType is AWS_IAM, so every request is signed with SigV4 for the
// "lambda" service.
type decisionClient struct {
	HTTP        *http.Client
	Signer      *v4.Signer
	Credentials aws.CredentialsProvider
	Region      string
	Now         func() time.Time
}

// maxAnswer bounds the answer read; the function's are a few hundred bytes.
const maxAnswer = 1 << 16

// Send signs and posts the decision and returns the answer's status and
// body. An error means no answer arrived.
func (c *decisionClient) Send(ctx context.Context, u *url.URL, d pipeline.Decision) (int, []byte, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return 0, nil, fmt.Errorf("encode decision: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	// The signature covers the payload hash; Function URLs also expect it
	// as a header on requests with a body, and the signer does not add it.
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("AWS credentials: %w", err)
	}
	if err := c.Signer.SignHTTP(ctx, creds, req, hash, "lambda", c.Region, c.Now()); err != nil {
		return 0, nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post to %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, b, nil
}

// regionFromURL returns the region a Function URL names
// (https://<id>.lambda-url.<region>.on.aws/), or "" for any other host.
func regionFromURL(u *url.URL) string {
	parts := strings.Split(u.Hostname(), ".")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "lambda-url" && parts[i+1] != "" {
			return parts[i+1]
		}
	}
	return ""
}
