package policy

import (
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Outcome is whether a statement (or one of its parts) applies to a request.
// The zero value, NotEvaluable, is the honest answer when the request
// context lacks what the statement tests.
type Outcome int

// The outcomes.
const (
	NotEvaluable Outcome = iota
	Matches
	NoMatch
)

var outcomeNames = [...]string{NotEvaluable: "not_evaluable", Matches: "matches", NoMatch: "no_match"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return outcomeNames[NotEvaluable]
	}
	return outcomeNames[o]
}

// and combines outcomes as AWS combines the parts of a statement: any part
// that does not match rules the statement out, whatever else is unknown.
func and(a, b Outcome) Outcome {
	switch {
	case a == NoMatch || b == NoMatch:
		return NoMatch
	case a == NotEvaluable || b == NotEvaluable:
		return NotEvaluable
	}
	return Matches
}

// Result is the evaluation of one statement against one request.
type Result struct {
	Index     int
	Statement Statement
	Outcome   Outcome
	// Keys are the condition keys that decided the outcome: those that
	// held for a match, the first that failed for no match, the one that
	// could not be known for not evaluable.
	Keys []string
	// Operator is the condition operator of Keys[0], when there is one.
	Operator string
	// Reason says in words why, e.g. "aws:SourceVpce is vpce-2 and the
	// statement requires not vpce-1".
	Reason string
}

// Name identifies the statement: its Sid, else its position.
func (r Result) Name() string { return r.Statement.Name(r.Index) }

// Key is the first deciding condition key, or "".
func (r Result) Key() string {
	if len(r.Keys) == 0 {
		return ""
	}
	return r.Keys[0]
}

// Evaluate evaluates every statement of doc against req.
func Evaluate(doc Document, req Request) []Result {
	out := make([]Result, 0, len(doc.Statements))
	for i, s := range doc.Statements {
		out = append(out, EvaluateStatement(i, s, req))
	}
	return out
}

// EvaluateStatement evaluates one statement against req.
func EvaluateStatement(index int, s Statement, req Request) Result {
	res := Result{Index: index, Statement: s}
	if !s.matchesAction(req.Action) {
		res.Outcome, res.Reason = NoMatch, fmt.Sprintf("does not cover action %s", req.Action)
		return res
	}
	if !s.matchesResource(req.Resources) {
		res.Outcome, res.Reason = NoMatch, fmt.Sprintf("does not cover resource %s", strings.Join(req.Resources, ", "))
		return res
	}
	p, why := s.matchesPrincipal(req)
	if p == NoMatch {
		res.Outcome, res.Reason = NoMatch, why
		return res
	}
	c := evaluateConditions(s.Condition, req)
	res.Outcome = and(p, c.outcome)
	switch {
	case c.outcome == NoMatch:
		res.Keys, res.Operator, res.Reason = c.keys, c.op, c.reason
	case p == NotEvaluable:
		res.Reason = why
	default:
		res.Keys, res.Operator, res.Reason = c.keys, c.op, c.reason
	}
	if res.Outcome == Matches && res.Reason == "" {
		res.Reason = "applies to this request"
	}
	return res
}

func (s Statement) matchesAction(action string) bool {
	if len(s.NotAction) > 0 {
		return !anyMatch(s.NotAction, action, true)
	}
	return anyMatch(s.Action, action, true)
}

func (s Statement) matchesResource(resources []string) bool {
	if len(s.Resource) == 0 && len(s.NotResource) == 0 {
		return true // e.g. a trust policy; resource policies imply their own resource
	}
	for _, r := range resources {
		if len(s.NotResource) > 0 {
			if !anyMatch(s.NotResource, r, false) {
				return true
			}
			continue
		}
		if anyMatch(s.Resource, r, false) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if Match(p, value, fold) {
			return true
		}
	}
	return false
}

// Match reports whether value matches an IAM wildcard pattern (`*` any run,
// `?` one character). fold makes it case-insensitive, as for actions.
// Whitespace is significant, as AWS treats it.
func Match(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchesPrincipal decides the Principal/NotPrincipal element.
func (s Statement) matchesPrincipal(req Request) (Outcome, string) {
	switch {
	case s.Principal != nil:
		o := principalMatches(*s.Principal, req)
		if o == NoMatch {
			return NoMatch, "does not name the caller as principal"
		}
		if o == NotEvaluable {
			return o, "the principal cannot be compared from the event"
		}
		return Matches, ""
	case s.NotPrincipal != nil:
		o := principalMatches(*s.NotPrincipal, req)
		switch o {
		case Matches:
			return NoMatch, "excludes the caller with NotPrincipal"
		case NoMatch:
			return Matches, ""
		}
		return NotEvaluable, "the NotPrincipal cannot be compared from the event"
	}
	return Matches, "" // identity policy: the principal is the attached identity
}

func principalMatches(p Principal, req Request) Outcome {
	if p.Any {
		return Matches
	}
	out := NoMatch
	for typ, values := range p.ByType {
		for _, v := range values {
			var o Outcome
			switch typ {
			case "AWS":
				o = awsPrincipalMatches(v, req)
			default:
				// Service, Federated and CanonicalUser principals never
				// appear as a CloudTrail caller ARN we can compare.
				o = NoMatch
				if req.PrincipalARN == "" && !req.Anonymous {
					o = NotEvaluable
				}
			}
			if o == Matches {
				return Matches
			}
			if o == NotEvaluable {
				out = NotEvaluable
			}
		}
	}
	return out
}

func awsPrincipalMatches(v string, req Request) Outcome {
	if v == "*" {
		return Matches
	}
	if req.Anonymous {
		return NoMatch
	}
	if req.PrincipalARN == "" && req.PrincipalAccount == "" {
		return NotEvaluable
	}
	if isAccountID(v) {
		v = "arn:aws:iam::" + v + ":root"
	}
	if acct, ok := rootAccount(v); ok {
		if req.PrincipalAccount == "" {
			return NotEvaluable
		}
		if acct == req.PrincipalAccount {
			return Matches
		}
		return NoMatch
	}
	if req.PrincipalARN == "" {
		return NotEvaluable
	}
	if v == req.PrincipalARN {
		return Matches
	}
	return NoMatch
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// rootAccount returns the account of an "arn:aws:iam::123456789012:root" ARN.
func rootAccount(arn string) (string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" {
		return parts[4], true
	}
	return "", false
}

type condResult struct {
	outcome Outcome
	keys    []string
	op      string
	reason  string
}

// evaluateConditions ANDs every operator block and every key in it; the
// values of one key are ORed (for negated operators: none may match).
func evaluateConditions(cond map[string]map[string]List, req Request) condResult {
	if len(cond) == 0 {
		return condResult{outcome: Matches}
	}
	ops := make([]string, 0, len(cond))
	for op := range cond {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	res := condResult{outcome: Matches}
	var unknown *condResult
	for _, op := range ops {
		keys := make([]string, 0, len(cond[op]))
		for k := range cond[op] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o, why := evalCondition(op, k, cond[op][k], req)
			switch o {
			case NoMatch:
				return condResult{outcome: NoMatch, keys: []string{k}, op: op, reason: why}
			case NotEvaluable:
				if unknown == nil {
					unknown = &condResult{outcome: NotEvaluable, keys: []string{k}, op: op, reason: why}
				}
			default:
				if res.op == "" {
					res.op, res.reason = op, why
				}
				res.keys = append(res.keys, k)
			}
		}
	}
	if unknown != nil {
		return *unknown
	}
	return res
}

// evalCondition evaluates one operator on one key.
func evalCondition(operator, key string, want List, req Request) (Outcome, string) {
	op := operator
	var set string
	if before, after, ok := strings.Cut(op, ":"); ok {
		set, op = before, after
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")

	got, state := req.Lookup(key)
	if state == KeyUnknown {
		return NotEvaluable, fmt.Sprintf("%s is not evaluable from the event", key)
	}
	if op == "Null" {
		wantAbsent := len(want) > 0 && strings.EqualFold(want[0], "true")
		if (state == KeyAbsent) == wantAbsent {
			return Matches, fmt.Sprintf("%s is %s", key, presence(state))
		}
		return NoMatch, fmt.Sprintf("%s is %s", key, presence(state))
	}
	single, negated, known := operatorFunc(op)
	if !known {
		return NotEvaluable, fmt.Sprintf("condition operator %s is not supported", operator)
	}
	resolved, ok := substitute(want, req)
	if !ok {
		return NotEvaluable, fmt.Sprintf("a policy variable in %s is not evaluable from the event", key)
	}
	if state == KeyAbsent {
		switch {
		case ifExists, set == "ForAllValues", negated && set == "":
			return Matches, fmt.Sprintf("%s is absent from the request", key)
		}
		return NoMatch, fmt.Sprintf("%s is absent from the request", key)
	}
	test := func(v string) (bool, error) {
		hit := false
		for _, w := range resolved {
			m, err := single(v, w)
			if err != nil {
				return false, err
			}
			if m {
				hit = true
				break
			}
		}
		if negated {
			return !hit, nil
		}
		return hit, nil
	}
	all, any := true, false
	for _, v := range got {
		m, err := test(v)
		if err != nil {
			return NotEvaluable, fmt.Sprintf("%s: %v", key, err)
		}
		any = any || m
		all = all && m
	}
	ok = any
	if set == "ForAllValues" {
		ok = all
	}
	desc := fmt.Sprintf("%s is %s; %s requires %s", key, strings.Join(got, ","), operator, strings.Join(want, ","))
	if ok {
		return Matches, desc
	}
	return NoMatch, desc
}

func presence(s KeyState) string {
	if s == KeyAbsent {
		return "absent from the request"
	}
	return "present in the request"
}

var variable = regexp.MustCompile(`\$\{([^}]+)\}`)

// substitute resolves policy variables such as ${aws:username}.
func substitute(values List, req Request) (List, bool) {
	out := make(List, len(values))
	ok := true
	for i, v := range values {
		out[i] = variable.ReplaceAllStringFunc(v, func(m string) string {
			name := m[2 : len(m)-1]
			switch name {
			case "*", "?", "$":
				return name
			}
			got, state := req.Lookup(name)
			if state != KeyPresent || len(got) != 1 {
				ok = false
				return m
			}
			return got[0]
		})
	}
	return out, ok
}

type compare func(got, want string) (bool, error)

// operatorFunc returns the comparison behind an operator name (without set
// prefix or IfExists) and whether the operator is a negation.
func operatorFunc(op string) (compare, bool, bool) {
	switch op {
	case "StringEquals":
		return func(g, w string) (bool, error) { return g == w, nil }, false, true
	case "StringNotEquals":
		return func(g, w string) (bool, error) { return g == w, nil }, true, true
	case "StringEqualsIgnoreCase":
		return func(g, w string) (bool, error) { return strings.EqualFold(g, w), nil }, false, true
	case "StringNotEqualsIgnoreCase":
		return func(g, w string) (bool, error) { return strings.EqualFold(g, w), nil }, true, true
	case "StringLike":
		return func(g, w string) (bool, error) { return Match(w, g, false), nil }, false, true
	case "StringNotLike":
		return func(g, w string) (bool, error) { return Match(w, g, false), nil }, true, true
	// AWS documents ArnEquals as behaving like ArnLike: wildcards apply.
	case "ArnLike", "ArnEquals":
		return func(g, w string) (bool, error) { return arnMatch(w, g), nil }, false, true
	case "ArnNotLike", "ArnNotEquals":
		return func(g, w string) (bool, error) { return arnMatch(w, g), nil }, true, true
	case "Bool":
		return func(g, w string) (bool, error) { return strings.EqualFold(g, w), nil }, false, true
	case "BinaryEquals":
		return func(g, w string) (bool, error) { return g == w, nil }, false, true
	case "IpAddress":
		return ipIn, false, true
	case "NotIpAddress":
		return ipIn, true, true
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		return numeric(op), false, true
	case "NumericNotEquals":
		return numeric("NumericEquals"), true, true
	case "DateEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		return date(op), false, true
	case "DateNotEquals":
		return date("DateEquals"), true, true
	}
	return nil, false, false
}

// arnMatch is the ARN operators' matching: AWS checks each of the six
// colon-delimited parts of the ARN on its own, so a wildcard in one part
// never spills into the next ("arn:aws:*:*:123456789012:*" does not match
// an S3 ARN whose key holds ":123456789012:"). A pattern or value that is
// not shaped like an ARN ("*") is matched whole.
func arnMatch(pattern, value string) bool {
	p, v := strings.SplitN(pattern, ":", 6), strings.SplitN(value, ":", 6)
	if len(p) != 6 || len(v) != 6 {
		return Match(pattern, value, false)
	}
	for i := range p {
		if !Match(p[i], v[i], false) {
			return false
		}
	}
	return true
}

func ipIn(got, want string) (bool, error) {
	addr, err := netip.ParseAddr(got)
	if err != nil {
		return false, fmt.Errorf("request value %q is not an IP address", got)
	}
	if !strings.Contains(want, "/") {
		w, err := netip.ParseAddr(want)
		if err != nil {
			return false, fmt.Errorf("policy value %q is not an IP address or CIDR", want)
		}
		return w.Unmap() == addr.Unmap(), nil
	}
	prefix, err := netip.ParsePrefix(want)
	if err != nil {
		return false, fmt.Errorf("policy value %q is not a CIDR", want)
	}
	return prefix.Contains(addr.Unmap()) || prefix.Contains(addr), nil
}

func numeric(op string) compare {
	return func(got, want string) (bool, error) {
		g, ok1 := new(big.Float).SetString(got)
		w, ok2 := new(big.Float).SetString(want)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("%q or %q is not a number", got, want)
		}
		return ordered(op, g.Cmp(w)), nil
	}
}

func date(op string) compare {
	return func(got, want string) (bool, error) {
		g, err1 := parseDate(got)
		w, err2 := parseDate(want)
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("%q or %q is not a date", got, want)
		}
		return ordered(op, g.Compare(w)), nil
	}
}

func parseDate(s string) (time.Time, error) {
	if n, ok := new(big.Int).SetString(s, 10); ok {
		return time.Unix(n.Int64(), 0), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

func ordered(op string, cmp int) bool {
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return cmp <= 0
	case strings.HasSuffix(op, "LessThan"):
		return cmp < 0
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return cmp >= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return cmp > 0
	}
	return cmp == 0
}
