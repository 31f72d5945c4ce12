package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// ProblemKind classifies a mistake in a policy document.
type ProblemKind int

// The problem kinds; the zero value is never reported.
const (
	ProblemNone ProblemKind = iota
	// ProblemWhitespace: an ARN holds whitespace, which AWS keeps
	// ("arn:aws:s3::: DOC-EXAMPLE-BUCKET/*" names "%20DOC-EXAMPLE-BUCKET/*").
	ProblemWhitespace
	// ProblemMalformedARN: a Resource or Principal value is not an ARN.
	ProblemMalformedARN
	// ProblemBucketVsObject: object actions on a bucket ARN only, or bucket
	// actions on object ARNs only, so the statement never applies.
	ProblemBucketVsObject
)

var problemNames = [...]string{ProblemNone: "none", ProblemWhitespace: "arn_whitespace", ProblemMalformedARN: "malformed_arn", ProblemBucketVsObject: "bucket_vs_object"}

// String returns the problem kind's name.
func (k ProblemKind) String() string {
	if k < 0 || int(k) >= len(problemNames) {
		return problemNames[ProblemNone]
	}
	return problemNames[k]
}

// Problem is one mistake found by Lint.
type Problem struct {
	Kind      ProblemKind
	Index     int
	Sid       string
	Element   string // "Resource", "NotResource", "Principal", "NotPrincipal"
	Value     string // as written
	Corrected string // the value with the mistake removed, when one can tell
	Detail    string
}

// Lint finds the mistakes the S3 guide lists in resource and principal
// elements.
func Lint(doc Document) []Problem {
	var out []Problem
	for i, s := range doc.Statements {
		add := func(kind ProblemKind, element, value, corrected, detail string) {
			out = append(out, Problem{Kind: kind, Index: i, Sid: s.Name(i), Element: element, Value: value, Corrected: corrected, Detail: detail})
		}
		for _, el := range []struct {
			name   string
			values List
		}{{"Resource", s.Resource}, {"NotResource", s.NotResource}} {
			for _, v := range el.values {
				lintARN(add, el.name, v, false)
			}
		}
		for _, el := range []struct {
			name string
			p    *Principal
		}{{"Principal", s.Principal}, {"NotPrincipal", s.NotPrincipal}} {
			if el.p == nil {
				continue
			}
			for typ, vs := range el.p.ByType {
				if typ != "AWS" {
					continue
				}
				for _, v := range vs {
					lintARN(add, el.name, v, true)
				}
			}
		}
		lintBucketObject(s, func(detail string) { add(ProblemBucketVsObject, "Resource", "", "", detail) })
	}
	return out
}

func lintARN(add func(ProblemKind, string, string, string, string), element, v string, principal bool) {
	if v == "*" || (principal && isAccountID(strings.TrimSpace(v))) {
		if v != strings.TrimSpace(v) {
			add(ProblemWhitespace, element, v, strings.TrimSpace(v), fmt.Sprintf("%s %q holds whitespace", element, v))
		}
		return
	}
	if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		if c := correctARN(v); c != v {
			add(ProblemWhitespace, element, v, c, fmt.Sprintf("%s %q holds whitespace; AWS evaluates it literally, so it never matches %q", element, v, c))
			return
		}
		// The only whitespace is inside an S3 object key, where it is
		// legitimate ("arn:aws:s3:::bucket/my report.pdf").
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		add(ProblemMalformedARN, element, v, "", fmt.Sprintf("%s %q is not a well-formed ARN (arn:partition:service:region:account:resource)", element, v))
	}
}

// correctARN removes the whitespace a typo put into an ARN: all of it before
// the first "/" (partition, service, region, account and bucket names never
// hold any) and around the ARN. An S3 object key after the bucket may hold
// real spaces and keeps them; elsewhere (IAM names and paths) none are
// valid. Values that are no ARN come back unchanged. The fix package's
// safety check applies exactly the same rule to a proposed policy.
func correctARN(v string) string {
	head, tail, hasTail := strings.Cut(strings.TrimSpace(v), "/")
	head = stripSpace(head)
	if !strings.HasPrefix(head, "arn:") {
		return v
	}
	if !hasTail {
		return head
	}
	if parts := strings.SplitN(head, ":", 4); len(parts) < 3 || parts[2] != "s3" {
		tail = stripSpace(tail)
	}
	return head + "/" + strings.TrimLeftFunc(tail, unicode.IsSpace)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// objectActions are the S3 action prefixes that act on objects
// (arn:aws:s3:::bucket/key), as opposed to buckets (arn:aws:s3:::bucket).
var objectActionPrefixes = []string{"s3:getobject", "s3:putobject", "s3:deleteobject", "s3:abortmultipartupload", "s3:listmultipartuploadparts", "s3:restoreobject"}

func isObjectAction(a string) bool {
	a = strings.ToLower(a)
	for _, p := range objectActionPrefixes {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}

func isBucketAction(a string) bool {
	a = strings.ToLower(a)
	return strings.HasPrefix(a, "s3:listbucket") || strings.HasPrefix(a, "s3:getbucket") || strings.HasPrefix(a, "s3:putbucket")
}

func lintBucketObject(s Statement, add func(string)) {
	if len(s.Resource) == 0 || len(s.NotAction) > 0 {
		return
	}
	var buckets, objects, other int
	for _, r := range s.Resource {
		switch {
		case !strings.HasPrefix(r, "arn:aws:s3:::"):
			other++
		case strings.Contains(strings.TrimPrefix(r, "arn:aws:s3:::"), "/"):
			objects++
		default:
			buckets++
		}
	}
	if other > 0 {
		return
	}
	var objActs, bucketActs bool
	for _, a := range s.Action {
		if strings.Contains(a, "*") {
			return // s3:* and s3:Get* cover both; no mistake to report
		}
		objActs = objActs || isObjectAction(a)
		bucketActs = bucketActs || isBucketAction(a)
	}
	switch {
	case objActs && objects == 0 && buckets > 0:
		add(fmt.Sprintf("statement %s grants object actions on the bucket ARN only; object actions need \"%s/*\"", s.Sid, s.Resource[0]))
	case bucketActs && buckets == 0 && objects > 0:
		add(fmt.Sprintf("statement %s grants bucket actions on object ARNs only; bucket actions need the bucket ARN without \"/*\"", s.Sid))
	}
}

// RemoveARNWhitespace returns raw with every whitespace problem of the
// Resource and Principal elements corrected, touching nothing else: each
// offending JSON string literal is replaced in place, so the layout, order
// and every other statement (every Deny included) stay exactly as they were.
// It reports false when there is nothing to correct.
func RemoveARNWhitespace(raw []byte, doc Document) ([]byte, bool) {
	out := string(raw)
	changed := false
	problems := Lint(doc)
	// Correcting NotResource or NotPrincipal of a Deny exempts what it
	// names, and correcting an Allow to everyone grants the public more:
	// both widen access, which this correction never does. A value left
	// alone there is left alone everywhere, since literals are replaced by
	// text.
	keep := map[string]bool{}
	for _, p := range problems {
		if p.Kind == ProblemWhitespace && widens(doc.Statements[p.Index], p.Element) {
			keep[p.Value] = true
		}
	}
	for _, p := range problems {
		if p.Kind != ProblemWhitespace || p.Corrected == "" || keep[p.Value] {
			continue
		}
		from, err1 := json.Marshal(p.Value)
		to, err2 := json.Marshal(p.Corrected)
		if err1 != nil || err2 != nil {
			continue
		}
		if strings.Contains(out, string(from)) {
			out = strings.ReplaceAll(out, string(from), string(to))
			changed = true
		}
	}
	return []byte(out), changed
}

// widens reports whether correcting an ARN in element of s would widen
// access: a Deny's NotResource or NotPrincipal, or anything in an Allow
// whose principal is everyone.
func widens(s Statement, element string) bool {
	if s.IsDeny() {
		return element != "Resource" && element != "Principal"
	}
	if p := s.Principal; p != nil {
		if p.Any {
			return true
		}
		for _, v := range p.ByType["AWS"] {
			if v == "*" {
				return true
			}
		}
	}
	return false
}
