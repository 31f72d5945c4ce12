// Package corpus generates realistic CloudTrail log files with known
// contents: the ground truth that scan's correctness tests and benchmarks
// compare against. Records carry CloudTrail's real field names and shapes
// (userIdentity with sessionContext, tlsDetails, additionalEventData,
// requestParameters) and weigh 1–2 KB each, as delivered logs do; denials use
// the message forms AWS really writes.
package corpus

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// Spec says what to generate. Zero fields take the defaults of Defaults.
type Spec struct {
	Files          int           // number of log files
	RecordsPerFile int           // records in each file
	DenialPercent  float64       // share of records that are denials, in percent
	ErrorPercent   float64       // share of records failing with a non-denial error
	Seed           uint64        // same seed, same corpus
	Start          time.Time     // eventTime of the first file
	Span           time.Duration // files are spread evenly over this span
}

// Defaults are the values used for zero Spec fields.
var Defaults = Spec{
	Files:          20,
	RecordsPerFile: 250,
	DenialPercent:  3,
	ErrorPercent:   2,
	Seed:           1,
	Start:          time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
	Span:           48 * time.Hour,
}

func (s Spec) withDefaults() Spec {
	if s.Files == 0 {
		s.Files = Defaults.Files
	}
	if s.RecordsPerFile == 0 {
		s.RecordsPerFile = Defaults.RecordsPerFile
	}
	if s.DenialPercent == 0 {
		s.DenialPercent = Defaults.DenialPercent
	}
	if s.ErrorPercent == 0 {
		s.ErrorPercent = Defaults.ErrorPercent
	}
	if s.Seed == 0 {
		s.Seed = Defaults.Seed
	}
	if s.Start.IsZero() {
		s.Start = Defaults.Start
	}
	if s.Span == 0 {
		s.Span = Defaults.Span
	}
	return s
}

// Fact is the ground truth about one generated record.
type Fact struct {
	Time       time.Time
	Denial     bool
	ErrorCode  string // "" for a successful call
	Cause      string // expected denial cause; "" when not a denial
	PolicyType string // expected policy type; "" when not a denial
	Account    string
	Region     string
}

// Truth is everything generated, one Fact per record.
type Truth struct {
	Facts []Fact
	Bytes int64 // uncompressed JSON bytes written
}

// Counts are the aggregates a scan must report for a time window.
type Counts struct {
	Records, Denials              int
	ByCode, ByCause, ByPolicyType map[string]int
	ByAccount, ByRegion           map[string]int
}

// Count returns the counts of records with since <= eventTime < until; a
// zero bound is open.
func (t Truth) Count(since, until time.Time) Counts {
	c := Counts{
		ByCode: map[string]int{}, ByCause: map[string]int{}, ByPolicyType: map[string]int{},
		ByAccount: map[string]int{}, ByRegion: map[string]int{},
	}
	for _, f := range t.Facts {
		if (!since.IsZero() && f.Time.Before(since)) || (!until.IsZero() && !f.Time.Before(until)) {
			continue
		}
		c.Records++
		if !f.Denial {
			continue
		}
		c.Denials++
		c.ByCode[f.ErrorCode]++
		c.ByCause[f.Cause]++
		c.ByPolicyType[f.PolicyType]++
		c.ByAccount[f.Account]++
		c.ByRegion[f.Region]++
	}
	return c
}

// Generate produces the corpus, handing each gzip log file to emit under its
// CloudTrail key (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>).
func Generate(spec Spec, emit func(key string, gz []byte) error) (Truth, error) {
	spec = spec.withDefaults()
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	var truth Truth
	step := spec.Span / time.Duration(spec.Files)
	var raw, gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := range spec.Files {
		acct := accounts[i%len(accounts)]
		region := regions[(i/len(accounts))%len(regions)]
		fileStart := spec.Start.Add(time.Duration(i) * step)
		raw.Reset()
		raw.WriteString(`{"Records":[`)
		for j := range spec.RecordsPerFile {
			if j > 0 {
				raw.WriteByte(',')
			}
			at := fileStart.Add(time.Duration(rng.Int64N(int64(max(step, time.Second)))))
			at = at.Truncate(time.Second)
			rec, fact := record(rng, spec, acct, region, at)
			b, err := json.Marshal(rec)
			if err != nil {
				return truth, err
			}
			raw.Write(b)
			truth.Facts = append(truth.Facts, fact)
		}
		raw.WriteString(`]}`)
		truth.Bytes += int64(raw.Len())
		gz.Reset()
		zw.Reset(&gz)
		if _, err := zw.Write(raw.Bytes()); err != nil {
			return truth, err
		}
		if err := zw.Close(); err != nil {
			return truth, err
		}
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%016X.json.gz",
			acct, region, fileStart.Format("2006/01/02"), acct, region,
			fileStart.Format("20060102T1504Z"), rng.Uint64())
		if err := emit(key, bytes.Clone(gz.Bytes())); err != nil {
			return truth, err
		}
	}
	return truth, nil
}

// WriteDir generates the corpus as files under dir, in the CloudTrail layout.
func WriteDir(dir string, spec Spec) (Truth, error) {
	return Generate(spec, func(key string, gz []byte) error {
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, gz, 0o644)
	})
}

var (
	accounts = []string{"123456789012", "777788889999", "111122223333"}
	regions  = []string{"us-east-1", "eu-west-1"}
	roles    = []string{"app-backend", "ci-deployer", "data-pipeline", "ReadOnlyAuditor"}
	users    = []string{"JohnDoe", "mateojackson", "ops-alice"}
	agents   = []string{
		"[aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe command/s3.cp]",
		"[aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#arm64 api/s3#1.58.2]",
		"[Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.144]",
	}
)

type denialForm struct {
	source, event, code string
	message             func(principal, acct, region string) string
	cause, policyType   string
	weight              int
}

// denialForms are access denied records as AWS writes them, with the cause
// and policy type the explanation engine must assign (IAM User Guide,
// "Troubleshoot access denied error messages"; S3 hides the reason).
var denialForms = []denialForm{
	{"s3.amazonaws.com", "GetObject", "AccessDenied",
		func(string, string, string) string { return "Access Denied" },
		"unknown", "unknown", 5},
	{"codecommit.amazonaws.com", "ListRepositories", "AccessDeniedException",
		func(p, _, _ string) string {
			return "User: " + p + " is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action"
		}, "missing_allow", "service_control_policy", 3},
	{"codecommit.amazonaws.com", "ListRepositories", "AccessDeniedException",
		func(p, _, _ string) string {
			return "User: " + p + " is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy"
		}, "explicit_deny", "service_control_policy", 2},
	{"secretsmanager.amazonaws.com", "GetSecretValue", "AccessDeniedException",
		func(p, a, r string) string {
			return "User: " + p + " is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:" + r + ":" + a + ":secret:prod/db-AbCdEf with an explicit deny in a resource-based policy"
		}, "explicit_deny", "resource_based_policy", 2},
	{"dynamodb.amazonaws.com", "GetItem", "AccessDeniedException",
		func(p, a, r string) string {
			return "User: " + p + " is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:" + r + ":" + a + ":table/orders because no identity-based policy allows the dynamodb:GetItem action"
		}, "missing_allow", "identity_based_policy", 3},
	{"ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
		func(string, string, string) string {
			return "You are not authorized to perform this operation. Encoded authorization failure message: 4Gx1u7Qe8kYrZ2vN0pLmXcQ9aT3bF6sW-hJ5dK8oI2uE7yR1tV4nM0bC9xZ3aS6dF8gH1jK4lP7oI0uY3tR6eW9qA2sD5fG8hJ1kL4zX7cV0bN3mQ6wE9rT2yU5iO8pA1sD4fG7hJ0kL3"
		}, "unknown", "unknown", 1},
}

var errorForms = []struct{ source, event, code, message string }{
	{"s3.amazonaws.com", "GetObject", "NoSuchKey", "The specified key does not exist."},
	{"dynamodb.amazonaws.com", "PutItem", "ConditionalCheckFailedException", "The conditional request failed"},
	{"kms.amazonaws.com", "Decrypt", "ThrottlingException", "Rate exceeded"},
}

var successForms = []struct{ source, event string }{
	{"s3.amazonaws.com", "GetObject"},
	{"s3.amazonaws.com", "PutObject"},
	{"sts.amazonaws.com", "AssumeRole"},
	{"kms.amazonaws.com", "Decrypt"},
	{"dynamodb.amazonaws.com", "GetItem"},
	{"sns.amazonaws.com", "Publish"},
}

func totalWeight() int {
	n := 0
	for _, f := range denialForms {
		n += f.weight
	}
	return n
}

var denialWeight = totalWeight()

func pickDenial(rng *rand.Rand) denialForm {
	n := rng.IntN(denialWeight)
	for _, f := range denialForms {
		if n < f.weight {
			return f
		}
		n -= f.weight
	}
	return denialForms[0]
}

// record builds one record: a denial, a non-denial error or a success.
func record(rng *rand.Rand, spec Spec, acct, region string, at time.Time) (map[string]any, Fact) {
	fact := Fact{Time: at, Account: acct, Region: region}
	ident, principal := identity(rng, acct, at)
	roll := rng.Float64() * 100
	var source, event, code, msg string
	switch {
	case roll < spec.DenialPercent:
		f := pickDenial(rng)
		source, event, code, msg = f.source, f.event, f.code, f.message(principal, acct, region)
		fact.Denial, fact.ErrorCode, fact.Cause, fact.PolicyType = true, code, f.cause, f.policyType
	case roll < spec.DenialPercent+spec.ErrorPercent:
		f := errorForms[rng.IntN(len(errorForms))]
		source, event, code, msg = f.source, f.event, f.code, f.message
		fact.ErrorCode = code
	default:
		f := successForms[rng.IntN(len(successForms))]
		source, event = f.source, f.event
	}
	bucket := fmt.Sprintf("%s-%s-artifacts", acct, region)
	key := fmt.Sprintf("builds/%d/%08x/output.tar.gz", at.Unix()/3600, rng.Uint32())
	rec := map[string]any{
		"eventVersion":       "1.10",
		"userIdentity":       ident,
		"eventTime":          at.Format(time.RFC3339),
		"eventSource":        source,
		"eventName":          event,
		"awsRegion":          region,
		"sourceIPAddress":    fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
		"userAgent":          agents[rng.IntN(len(agents))],
		"requestID":          fmt.Sprintf("%016X", rng.Uint64()),
		"eventID":            uuid(rng),
		"readOnly":           event != "PutObject" && event != "Publish" && event != "RunInstances",
		"eventType":          "AwsApiCall",
		"managementEvent":    source != "s3.amazonaws.com" && source != "dynamodb.amazonaws.com",
		"recipientAccountId": acct,
		"eventCategory":      "Management",
		"tlsDetails": map[string]any{
			"tlsVersion":               "TLSv1.3",
			"cipherSuite":              "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": hostFor(source, region, bucket),
		},
	}
	if code != "" {
		rec["errorCode"] = code
		rec["errorMessage"] = msg
	}
	switch source {
	case "s3.amazonaws.com":
		rec["eventCategory"] = "Data"
		rec["requestParameters"] = map[string]any{"bucketName": bucket, "Host": hostFor(source, region, bucket), "key": key}
		rec["additionalEventData"] = map[string]any{
			"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
			"bytesTransferredIn": 0, "bytesTransferredOut": 1 + rng.IntN(1<<20),
			"AuthenticationMethod": "AuthHeader",
			"x-amz-id-2":           fmt.Sprintf("%x%x%x/%x=", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint32()),
		}
		rec["resources"] = []map[string]any{
			{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::" + bucket + "/" + key},
			{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + bucket},
		}
		rec["vpcEndpointId"] = "vpce-0a1b2c3d4e5f67890"
		rec["vpcEndpointAccountId"] = acct
	case "sns.amazonaws.com":
		// A message body that itself quotes a CloudTrail error: the
		// scanner must not take it for the record's own errorCode.
		rec["requestParameters"] = map[string]any{
			"topicArn": "arn:aws:sns:" + region + ":" + acct + ":alerts",
			"message":  `{"errorCode":"AccessDenied","detail":"forwarded alarm"}`,
		}
		rec["responseElements"] = map[string]any{"messageId": uuid(rng)}
	case "dynamodb.amazonaws.com":
		rec["requestParameters"] = map[string]any{"tableName": "orders", "key": map[string]any{"pk": fmt.Sprintf("ORDER#%d", rng.IntN(1e6))}, "consistentRead": false}
		rec["resources"] = []map[string]any{{"accountId": acct, "type": "AWS::DynamoDB::Table", "ARN": "arn:aws:dynamodb:" + region + ":" + acct + ":table/orders"}}
	case "kms.amazonaws.com":
		rec["requestParameters"] = map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": map[string]any{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}}
		rec["resources"] = []map[string]any{{"accountId": acct, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:" + region + ":" + acct + ":key/" + uuid(rng)}}
	case "sts.amazonaws.com":
		rec["requestParameters"] = map[string]any{"roleArn": "arn:aws:iam::" + acct + ":role/ci-deployer", "roleSessionName": fmt.Sprintf("gha-%d", rng.IntN(1e9)), "durationSeconds": 3600}
	case "secretsmanager.amazonaws.com":
		rec["requestParameters"] = map[string]any{"secretId": "prod/db"}
	case "ec2.amazonaws.com":
		rec["requestParameters"] = map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}}}, "instanceType": "t3.micro"}
	case "codecommit.amazonaws.com":
		rec["requestParameters"] = map[string]any{"sortBy": "repositoryName", "order": "ascending"}
	}
	if code == "" && rec["responseElements"] == nil && source != "s3.amazonaws.com" {
		rec["responseElements"] = nil
	}
	return rec, fact
}

func identity(rng *rand.Rand, acct string, at time.Time) (map[string]any, string) {
	if rng.IntN(4) == 0 {
		u := users[rng.IntN(len(users))]
		arn := "arn:aws:iam::" + acct + ":user/" + u
		return map[string]any{
			"type": "IAMUser", "principalId": "AIDA" + upper(rng, 17), "arn": arn,
			"accountId": acct, "accessKeyId": "AKIA" + upper(rng, 16), "userName": u,
		}, arn
	}
	role := roles[rng.IntN(len(roles))]
	session := fmt.Sprintf("i-%017x", rng.Uint64()>>4)
	roleID := "AROA" + upper(rng, 17)
	arn := "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session
	return map[string]any{
		"type": "AssumedRole", "principalId": roleID + ":" + session, "arn": arn,
		"accountId": acct, "accessKeyId": "ASIA" + upper(rng, 16),
		"sessionContext": map[string]any{
			"sessionIssuer": map[string]any{
				"type": "Role", "principalId": roleID, "arn": "arn:aws:iam::" + acct + ":role/" + role,
				"accountId": acct, "userName": role,
			},
			"attributes": map[string]any{
				"creationDate":     at.Add(-time.Duration(rng.IntN(3600)) * time.Second).Format(time.RFC3339),
				"mfaAuthenticated": "false",
			},
			"ec2RoleDelivery": "2.0",
		},
	}, arn
}

func hostFor(source, region, bucket string) string {
	svc := source[:len(source)-len(".amazonaws.com")]
	if svc == "s3" {
		return bucket + ".s3." + region + ".amazonaws.com"
	}
	return svc + "." + region + ".amazonaws.com"
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func upper(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = upperAlnum[rng.IntN(len(upperAlnum))]
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a), uint16(b>>48), b&0xffffffffffff)
}
