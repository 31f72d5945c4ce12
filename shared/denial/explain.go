package denial

import (
	"strings"

	"github.com/denyfix/denyfix/shared/cloudtrail"
)

// Explain explains one CloudTrail record (a record built from free text
// carries only ErrorMessage). It reports false when the record is not a
// denial: a successful call, another error code, or text that is no denial.
// It is pure: everything comes from the record.
func Explain(rec cloudtrail.Record) (Explanation, bool) {
	e, m, ok := explainFacts(rec)
	if ok {
		describe(&e, m)
	}
	return e, ok
}

// ExplainFacts is Explain without the summary and next steps, for callers
// that count many denials and describe only a few (Describe adds the prose).
func ExplainFacts(rec cloudtrail.Record) (Explanation, bool) {
	e, _, ok := explainFacts(rec)
	return e, ok
}

func explainFacts(rec cloudtrail.Record) (Explanation, Message, bool) {
	if rec.ErrorCode != "" && !IsDenialCode(rec.ErrorCode) {
		return Explanation{}, Message{}, false
	}
	if rec.ErrorCode == "" && (rec.EventName != "" || rec.ErrorMessage == "") {
		return Explanation{}, Message{}, false // a CloudTrail record without errorCode succeeded
	}
	m := ParseMessage(rec.ErrorMessage)
	if rec.ErrorCode == "" && (!m.Denial || m.Code != "" && !IsDenialCode(m.Code) && !isForbidden(m.Code)) {
		return Explanation{}, Message{}, false
	}

	e := Explanation{
		ErrorCode:    ptr(firstNonEmpty(rec.ErrorCode, m.Code)),
		ErrorMessage: m.Text,
		EventID:      ptr(rec.EventID),
		EventTime:    ptr(rec.EventTime),
		Region:       ptr(rec.AWSRegion),
		PolicyType:   m.PolicyType,
		DenyKind:     m.DenyKind,
		PolicyARN:    ptr(m.PolicyARN),
	}
	if rec.ErrorCode != "" {
		e.ErrorMessage = rec.ErrorMessage // a record's message is AWS's own, keep it whole
	}
	if m.Via != PolicyUnknown {
		via := m.Via
		e.Via = &via
	}

	service := rec.Service()
	if service == "" {
		service = serviceFromWrapper(m.Service)
	}
	if service == "" {
		service, _, _ = strings.Cut(m.Action, ":")
	}
	if service == "" && isS3Bare(m) {
		service = "s3"
	}
	e.Service = ptr(service)
	e.EventName = ptr(firstNonEmpty(rec.EventName, m.Operation))
	e.Action = ptr(firstNonEmpty(m.Action, ActionFor(service, firstNonEmpty(rec.EventName, m.Operation))))
	e.Principal = ptr(firstNonEmpty(m.Principal, recordPrincipal(rec)))
	e.Resource = ptr(firstNonEmpty(m.Resource, recordResource(rec, service)))
	e.Account = ptr(firstNonEmpty(rec.Account(), arnAccount(m.Principal), arnAccount(m.Resource)))
	if e.Region == nil {
		e.Region = ptr(arnRegion(m.Resource))
	}

	e.Cause = causeOf(m, service)
	return e, m, true
}

// Describe fills in the summary and next steps of an explanation from its
// facts and its errorMessage, as Explain does. Callers that keep many
// explanations (scan) drop the prose to save memory and describe only the
// few they show.
func Describe(e *Explanation) {
	describe(e, ParseMessage(e.ErrorMessage))
}

func describe(e *Explanation, m Message) {
	e.Summary = summary(e, m)
	e.NextSteps = nextSteps(e, m)
}

// ExplainText explains a free-text error message.
func ExplainText(text string) (Explanation, bool) {
	return Explain(cloudtrail.Record{ErrorMessage: text})
}

// causeOf picks the cause the message alone proves. The S3 causes that need
// live checks come from the diagnosis; offline they stay unknown.
func causeOf(m Message, service string) Cause {
	switch {
	case m.Expired && (service == "s3" || service == ""):
		return CausePresignedURLExpired
	case m.KMSOpaque:
		return CauseKMS
	case m.DenyKind == DenyExplicit:
		return CauseExplicitDeny
	case m.DenyKind == DenyImplicit:
		return CauseMissingAllow
	}
	return CauseUnknown
}

// isS3Bare reports S3's own bare message, "Access Denied", from an S3
// operation named by a wrapper (the CLI does not name the service).
func isS3Bare(m Message) bool {
	op := m.Operation
	return (m.Text == "Access Denied" || m.Text == "Forbidden") && (strings.Contains(op, "Object") || strings.Contains(op, "Bucket") || op == "ListParts" || strings.Contains(op, "Multipart"))
}

// recordPrincipal is the caller as CloudTrail recorded it, for messages
// (like S3's) that do not name it.
func recordPrincipal(rec cloudtrail.Record) string {
	if arn := rec.PrincipalARN(); arn != "" {
		return arn
	}
	id := rec.UserIdentity
	switch {
	case id.AccountID == "ANONYMOUS_PRINCIPAL" || id.AccountID == "anonymous" || id.Type == "Anonymous":
		return "anonymous"
	case id.Type == "AWSService" && id.InvokedBy != "":
		return id.InvokedBy
	}
	return ""
}

// recordResource names the resource from the record when the message does
// not: for S3 the bucket or object ARN built from the request parameters,
// else the first resource CloudTrail lists.
func recordResource(rec cloudtrail.Record, service string) string {
	if service == "s3" {
		if bucket := rec.RequestParam("bucketName"); bucket != "" {
			arn := "arn:" + Partition(rec.AWSRegion) + ":s3:::" + bucket
			if key := rec.RequestParam("key"); key != "" {
				arn += "/" + key
			}
			return arn
		}
	}
	if len(rec.Resources) > 0 {
		return rec.Resources[0].ARN
	}
	return ""
}

// Partition returns the ARN partition of a region: aws-cn for China,
// aws-us-gov for GovCloud, else aws.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// arnAccount returns the account field of an ARN, "" when it has none.
func arnAccount(arn string) string {
	if f := strings.SplitN(arn, ":", 6); len(f) == 6 && f[0] == "arn" && isDigits(f[4]) {
		return f[4]
	}
	return ""
}

// arnRegion returns the region field of an ARN, "" when it has none.
func arnRegion(arn string) string {
	if f := strings.SplitN(arn, ":", 6); len(f) == 6 && f[0] == "arn" {
		return f[3]
	}
	return ""
}

func isDigits(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
