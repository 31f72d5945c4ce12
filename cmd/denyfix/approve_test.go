package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/pipeline"
	"github.com/denyfix/denyfix/shared/settings"
)

// identity is one set of credentials the fake Function URL knows, and the
// caller ARN Lambda would put in requestContext.authorizer.iam for it.
type identity struct {
	accessKey, secret, arn string
}

var (
	// maria's credentials are what motoEnv configures.
	maria   = identity{"testing", "testing", "arn:aws:sts::111122223333:assumed-role/platform-oncall/maria"}
	li      = identity{"AKIAEXAMPLELI", "li-secret", "arn:aws:sts::111122223333:assumed-role/platform-oncall/li"}
	mallory = identity{"AKIAEXAMPLEMALLORY", "mallory-secret", "arn:aws:iam::111122223333:user/mallory"}
)

// functionURL stands in for Lambda in front of the approve function: it
// checks the SigV4 signature the way the AWS_IAM auth type does, answers
// 403 {"Message":"Forbidden"} as Lambda does when it fails, and otherwise
// hands the request, with the signer's ARN, to the real pipeline.Approver.
type functionURL struct {
	t        *testing.T
	approver *pipeline.Approver
	ids      map[string]identity
	mu       sync.Mutex
	signed   int // requests whose signature verified
}

var authHeader = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)

func (f *functionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request: %v", err)
		return
	}
	id, err := f.verify(r, body)
	if err != nil {
		f.t.Errorf("request is not SigV4-signed for lambda: %v", err)
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"Message":"Forbidden"}`)
		return
	}
	f.mu.Lock()
	f.signed++
	f.mu.Unlock()
	req := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: r.URL.Path, Body: string(body), Headers: map[string]string{}}
	for k := range r.Header {
		req.Headers[strings.ToLower(k)] = r.Header.Get(k)
	}
	req.RequestContext.RequestID = "req-" + id.accessKey
	req.RequestContext.HTTP.Method = r.Method
	req.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
		IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{AccessKey: id.accessKey, AccountID: "111122223333", UserARN: id.arn},
	}
	resp, err := f.approver.Handle(r.Context(), req)
	if err != nil {
		f.t.Errorf("Handle: got %v; want nil (errors are answers)", err)
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.StatusCode)
	io.WriteString(w, resp.Body)
}

// verify checks the request's SigV4 signature by signing the same request
// again with the secret of the access key it names, and returns who signed.
func (f *functionURL) verify(r *http.Request, body []byte) (identity, error) {
	m := authHeader.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return identity{}, fmt.Errorf("Authorization %q is not AWS4-HMAC-SHA256 Credential=.../lambda/aws4_request", r.Header.Get("Authorization"))
	}
	accessKey, region, service, signed := m[1], m[3], m[4], strings.Split(m[5], ";")
	if service != "lambda" || region != "us-east-1" {
		return identity{}, fmt.Errorf("scope service %s region %s; want lambda us-east-1", service, region)
	}
	id, ok := f.ids[accessKey]
	if !ok {
		return identity{}, fmt.Errorf("unknown access key %s", accessKey)
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return identity{}, fmt.Errorf("X-Amz-Date: %w", err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hash {
		return identity{}, fmt.Errorf("X-Amz-Content-Sha256 %q; want the body's hash %s", got, hash)
	}
	for _, h := range []string{"host", "x-amz-date", "x-amz-content-sha256", "content-type"} {
		if !strings.Contains(";"+m[5]+";", ";"+h+";") {
			return identity{}, fmt.Errorf("SignedHeaders %s lacks %s", m[5], h)
		}
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return identity{}, err
	}
	again.ContentLength = r.ContentLength
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: id.accessKey, SecretAccessKey: id.secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hash, "lambda", region, at); err != nil {
		return identity{}, err
	}
	if got, want := r.Header.Get("Authorization"), again.Header.Get("Authorization"); got != want {
		return identity{}, fmt.Errorf("signature does not verify:\n got  %s\n want %s", got, want)
	}
	return id, nil
}

// use makes the default credential chain return id, through the environment.
func use(t *testing.T, id identity) {
	t.Setenv("AWS_ACCESS_KEY_ID", id.accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", id.secret)
}

func TestDecisionCommands(t *testing.T) {
	w := newOperatorWorld(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("denyfix")}); err != nil {
		t.Fatal(err)
	}
	// The applied finding's bucket, in the state its fix left it.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(worldBucket)}); err != nil {
		t.Fatal(err)
	}
	setOwnership(t, s3c, s3types.ObjectOwnershipBucketOwnerEnforced)

	set, err := settings.Parse(func(k string) string {
		return map[string]string{
			settings.EnvApproverARNs:     "arn:aws:iam::111122223333:role/platform-oncall",
			settings.EnvBucketAllowlist:  worldBucket,
			settings.EnvAccountAllowlist: worldAccount,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	fu := &functionURL{t: t, ids: map[string]identity{maria.accessKey: maria, li.accessKey: li, mallory.accessKey: mallory},
		approver: &pipeline.Approver{Settings: set, Store: w.store, Bus: bus.NewPublisher(eb, "denyfix"),
			Fixer: fix.NewApplier(s3c, set.BucketAllowed), Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}}
	srv := httptest.NewServer(fu)
	t.Cleanup(srv.Close)
	t.Setenv(approveURLEnv, srv.URL+"/")
	// The store's clock is the world's, hours ago; decisions happen now.
	w.store.Now = time.Now

	// Each step runs against the state the previous ones left.
	steps := []struct {
		name   string
		as     identity
		args   []string
		code   int
		out    string // stdout, exactly
		errHas string // a fragment stderr must hold
		state  finding.State
		fp     string // the finding whose state is checked
	}{
		{name: "approve", as: maria, args: []string{"approve", w.proposed, "--reason", "partner uploads broke reports"}, code: exitOK,
			out: "approved: " + w.proposed + " now approved\n", state: finding.StateApproved, fp: w.proposed},
		{name: "same approver again is answered again", as: maria, args: []string{"approve", w.proposed}, code: exitOK,
			out: "approved: " + w.proposed + " now approved\n", state: finding.StateApproved, fp: w.proposed},
		{name: "second approver conflicts", as: li, args: []string{"approve", w.proposed}, code: exitNone,
			errHas: "HTTP 409", state: finding.StateApproved, fp: w.proposed},
		{name: "reject after approve conflicts", as: li, args: []string{"reject", "--reason", "too late", w.proposed}, code: exitNone,
			errHas: "is approved, not proposed", state: finding.StateApproved, fp: w.proposed},
		{name: "unknown fingerprint", as: maria, args: []string{"approve", "0123456789abcdef0123456789abcdef"}, code: exitNone,
			errHas: "HTTP 404"},
		{name: "not an approver", as: mallory, args: []string{"rollback", w.applied}, code: exitUsage,
			errHas: "ApproverArns", state: finding.StateApplied, fp: w.applied},
		{name: "rollback what was not applied", as: maria, args: []string{"rollback", w.rejected, "--format", "json"}, code: exitNone,
			out: `{"fingerprint":"` + w.rejected + `","error":"proposal state conflict: proposal ` + w.rejected + ` is rejected, not applied"}` + "\n", state: finding.StateRejected, fp: w.rejected},
		{name: "rollback", as: li, args: []string{"rollback", w.applied, "--reason", "partner feed broke", "--format", "json"}, code: exitOK,
			out: `{"fingerprint":"` + w.applied + `","state":"rolled_back"}` + "\n", state: finding.StateRolledBack, fp: w.applied},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			use(t, st.as)
			code, out, errOut := runCLI(t, "", st.args...)
			if code != st.code {
				t.Fatalf("exit code: got %d; want %d (stdout %q, stderr %q)", code, st.code, out, errOut)
			}
			if st.out != "" && out != st.out {
				t.Errorf("stdout: got %q; want %q", out, st.out)
			}
			if st.errHas != "" && !strings.Contains(errOut, st.errHas) {
				t.Errorf("stderr: got %q; want it to hold %q", errOut, st.errHas)
			}
			if st.fp != "" {
				f, err := w.store.Get(ctx, st.fp)
				if err != nil {
					t.Fatal(err)
				}
				if f.Proposal.State != st.state {
					t.Errorf("state: got %s; want %s", f.Proposal.State, st.state)
				}
			}
		})
	}

	f, err := w.store.Get(ctx, w.proposed)
	if err != nil {
		t.Fatal(err)
	}
	if f.Proposal.Actor != maria.arn || f.Proposal.Reason != "partner uploads broke reports" {
		t.Errorf("approval recorded actor %q reason %q; want %q and the reason given", f.Proposal.Actor, f.Proposal.Reason, maria.arn)
	}
	out, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(worldBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.OwnershipControls.Rules[0].ObjectOwnership; got != s3types.ObjectOwnershipObjectWriter {
		t.Errorf("ownership after rollback: got %s; want ObjectWriter restored", got)
	}
	if fu.signed != len(steps) {
		t.Errorf("verified signatures: got %d; want %d, one per request", fu.signed, len(steps))
	}
}

func setOwnership(t *testing.T, c *s3.Client, o s3types.ObjectOwnership) {
	t.Helper()
	_, err := c.PutBucketOwnershipControls(context.Background(), &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(worldBucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: o}}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecisionUsage(t *testing.T) {
	motoEnv(t) // credentials and region, no AWS
	tests := []struct {
		name   string
		env    string // DENYFIX_APPROVE_URL
		args   []string
		code   int
		errHas string
	}{
		{"no fingerprint", "https://abc.lambda-url.eu-west-1.on.aws/", []string{"approve"}, exitUsage, "Usage: denyfix approve FINGERPRINT"},
		{"two fingerprints", "https://abc.lambda-url.eu-west-1.on.aws/", []string{"reject", "a", "b"}, exitUsage, "Usage: denyfix reject"},
		{"no url", "", []string{"approve", "fp"}, exitUsage, approveURLEnv},
		{"not a url", "", []string{"approve", "fp", "--url", "lambda-url"}, exitUsage, "not an http(s) URL"},
		{"bad format", "https://abc.lambda-url.eu-west-1.on.aws/", []string{"rollback", "fp", "--format", "yaml"}, exitUsage, "unknown --format"},
		{"unknown flag", "https://abc.lambda-url.eu-west-1.on.aws/", []string{"approve", "fp", "--force"}, exitUsage, "flag provided but not defined"},
		{"help", "", []string{"rollback", "--help"}, exitOK, "lambda:InvokeFunctionUrl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(approveURLEnv, tc.env)
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit code: got %d; want %d (stdout %q, stderr %q)", code, tc.code, out, errOut)
			}
			if !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr: got %q; want it to hold %q", errOut, tc.errHas)
			}
		})
	}
}

// TestDecisionAnswers maps every kind of answer to output and exit code,
// including Lambda's own 403 when the signature or permission fails before
// the function runs, and a failure to connect.
func TestDecisionAnswers(t *testing.T) {
	motoEnv(t)
	tests := []struct {
		name   string
		status int
		body   string
		args   []string
		code   int
		out    string
		errHas string
	}{
		{"approved", 200, `{"fingerprint":"fp","state":"approved"}`, nil, exitOK, "approved: fp now approved\n", ""},
		{"rolled back", 200, `{"fingerprint":"fp","state":"rolled_back"}`, []string{"--decision", "rollback"}, exitOK, "rolled back: fp now rolled_back\n", ""},
		{"json as returned", 409, `{"fingerprint":"fp","state":"expired","error":"proposal expired"}`, []string{"--format", "json"}, exitNone, `{"fingerprint":"fp","state":"expired","error":"proposal expired"}` + "\n", "HTTP 409"},
		{"expired", 409, `{"fingerprint":"fp","state":"expired","error":"proposal expired"}`, nil, exitNone, "", "proposal expired (state expired)"},
		{"lambda refused the signature", 403, `{"Message":"Forbidden"}`, nil, exitUsage, "", "lambda:InvokeFunctionUrl"},
		{"announcement failed", 503, `{"fingerprint":"fp","state":"approved","error":"decision recorded but not announced; send it again"}`, nil, exitUsage, "", "send it again"},
		{"bad gateway text", 502, `Bad Gateway`, nil, exitUsage, "", "HTTP 502: Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			decision := "approve"
			args := tc.args
			if len(args) == 2 && args[0] == "--decision" {
				decision, args = args[1], nil
			}
			code, out, errOut := runCLI(t, "", append([]string{decision, "fp", "--url", srv.URL}, args...)...)
			if code != tc.code {
				t.Fatalf("exit code: got %d; want %d (stdout %q, stderr %q)", code, tc.code, out, errOut)
			}
			if out != tc.out {
				t.Errorf("stdout: got %q; want %q", out, tc.out)
			}
			if !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr: got %q; want it to hold %q", errOut, tc.errHas)
			}
		})
	}

	t.Run("no answer", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		u := srv.URL
		srv.Close()
		code, _, errOut := runCLI(t, "", "approve", "fp", "--url", u)
		if code != exitUsage || !strings.Contains(errOut, "post to") {
			t.Errorf("got exit %d, stderr %q; want %d and the failed post", code, errOut, exitUsage)
		}
	})
}

func TestRegionFromURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"function url", "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws/", "eu-central-1"},
		{"with path", "https://x.lambda-url.us-gov-west-1.on.aws/approve?x=1", "us-gov-west-1"},
		{"loopback", "http://127.0.0.1:8080/", ""},
		{"custom domain", "https://approve.example.com/", ""},
		{"no region after lambda-url", "https://x.lambda-url.aws", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := regionFromURL(u); got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestDecisionClientSignsFromURLRegion checks the region of a real
// Function URL host wins over the configured one: the signature scope must
// name the function's region or Lambda refuses it.
func TestDecisionClientSignsFromURLRegion(t *testing.T) {
	var got string
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("Authorization")
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}}, nil
	})
	c := &decisionClient{HTTP: &http.Client{Transport: rt}, Signer: v4.NewSigner(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}, nil
		}),
		Now: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }}
	u, _ := url.Parse("https://abc.lambda-url.ap-southeast-2.on.aws/")
	c.Region = regionFromURL(u)
	if _, _, err := c.Send(context.Background(), u, pipeline.Decision{Fingerprint: "fp", Decision: "approve"}); err != nil {
		t.Fatal(err)
	}
	if want := "Credential=AKIAEXAMPLE/20250301/ap-southeast-2/lambda/aws4_request"; !strings.Contains(got, want) {
		t.Errorf("got Authorization %q; want it to hold %q", got, want)
	}
	if !strings.Contains(got, "x-amz-security-token") {
		t.Errorf("got Authorization %q; want the session token signed", got)
	}

	c.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no SSO session")
	})
	if _, _, err := c.Send(context.Background(), u, pipeline.Decision{Fingerprint: "fp", Decision: "approve"}); err == nil || !strings.Contains(err.Error(), "no SSO session") {
		t.Errorf("got %v; want the credential error", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
