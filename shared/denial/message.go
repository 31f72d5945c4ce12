package denial

import "strings"

// Message is what the text of an access denied message says, parsed. Fields
// the text does not state are empty (or the enum's unknown value).
type Message struct {
	// Text is the AWS message itself, without any CLI, SDK, Terraform or
	// CloudFormation wrapper around it.
	Text string
	// Code, Service and Operation are what a wrapper names, e.g.
	// "AccessDenied", "S3", "GetObject".
	Code      string
	Service   string
	Operation string

	Principal  string
	Action     string
	Resource   string
	PolicyType PolicyType
	DenyKind   DenyKind
	// Via is X in "with an explicit deny in a X transitively through a Y";
	// PolicyType is then Y.
	Via       PolicyType
	PolicyARN string
	// EncodedAuthorization is the blob of an EC2 "Encoded authorization
	// failure message", which sts:DecodeAuthorizationMessage decodes.
	EncodedAuthorization string
	// Expired reports S3's "Request has expired": a presigned URL or
	// signature used after its expiry.
	Expired bool
	// KMSOpaque reports KMS's "The ciphertext refers to a customer master
	// key that does not exist, ..., or you are not allowed to access": a
	// denial by the key's policy or grants that KMS will not detail.
	KMSOpaque bool
	// Denial reports whether the text reads as an access denial at all.
	Denial bool
}

// ParseMessage parses an access denied message. It tolerates CLI, SDK,
// Terraform and CloudFormation wrappers, line wraps anywhere (keywords are
// matched with white space ignored, and ARNs and actions lose theirs) and
// truncation. It never fails: what it cannot read stays empty.
func ParseMessage(text string) Message {
	m := unwrap(unquoteMarkdown(text))
	s := m.Text
	if i, end := find(s, 0, phraseEncoded, false); i >= 0 {
		m.EncodedAuthorization = encodedBlob(s[end:])
		s = s[:i]
	}
	m.parseCore(s)
	m.Expired = has(s, "request has expired")
	m.KMSOpaque = has(s, "refers to a customer master key that does not exist")
	m.Denial = m.Denial || m.KMSOpaque || IsDenialCode(m.Code) || isForbidden(m.Code) || m.DenyKind != DenyUnknown ||
		m.EncodedAuthorization != "" || hasAny(s, denialPhrases)
	return m
}

// unquoteMarkdown removes the "> " a message pasted as a markdown quote
// carries at the start of each line.
func unquoteMarkdown(text string) string {
	if !strings.HasPrefix(strings.TrimSpace(text), ">") {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(strings.TrimLeft(l, " \t"), ">")
	}
	return strings.Join(lines, "\n")
}

// isForbidden reports the codes tools show for an HTTP 403 without an error
// body (S3 answers HEAD requests that way).
func isForbidden(code string) bool {
	return code == "403" || code == "Forbidden" || code == "403 Forbidden"
}

// Phrases are written lower-case; white space in them is ignored, like
// white space in the text (see find).
const (
	phraseEncoded        = "encoded authorization failure message:"
	phraseNotAuthorized  = "is not authorized"
	phraseUser           = "user:"
	phrasePerform        = "to perform"
	phraseOnResource     = "on resource"
	phraseBecauseNo      = "because no"
	phraseExplicitDeny   = "with an explicit deny"
	phraseExplicitly     = "explicitly denied"
	phraseImplicitDeny   = "with an implicit deny"
	phraseTransitively   = "transitively through"
	phraseAllows         = "allows"
	phraseNotAuthorizedL = "not authorized to perform"
)

var denialPhrases = []string{
	"not authorized", "access denied", "accessdenied", "explicit deny", "implicit deny",
	"unauthorizedoperation", "authorizationerror", "not allowed to access", "permission denied",
}

// policyPhrases maps the policy type names AWS writes (and the variants seen
// in the wild, like the IAM guide's "sessions policy") to PolicyType. Longer
// phrases come before their prefixes.
var policyPhrases = []struct {
	phrase string
	typ    PolicyType
}{
	{"service control policy", PolicySCP},
	{"resource control policy", PolicyRCP},
	{"vpc endpoint policy", PolicyVPCEndpoint},
	{"permissions boundary", PolicyPermissionsBoundary},
	{"permission boundary", PolicyPermissionsBoundary},
	{"sessions policy", PolicySession},
	{"session policy", PolicySession},
	{"resource-based policy", PolicyResourceBased},
	{"resource based policy", PolicyResourceBased},
	{"identity-based policy", PolicyIdentityBased},
	{"identity based policy", PolicyIdentityBased},
	{"role trust policy", PolicyRoleTrust},
	{"trust policy", PolicyRoleTrust},
}

var articles = []string{"an", "a", "the"}

// parseCore reads the standard form "User: P is not authorized to perform:
// A [on resource: R] (because no T allows the A action | with an explicit
// deny in a T[: ARN] [transitively through a T2])".
func (m *Message) parseCore(s string) {
	actionFrom := 0
	if na, naEnd := find(s, 0, phraseNotAuthorized, true); na >= 0 {
		m.Principal = principalBefore(s, na)
		actionFrom = naEnd
	}
	if _, pe := find(s, actionFrom, phrasePerform, true); pe >= 0 {
		end := firstAnchor(s, pe, phraseOnResource, "on this resource", "because", "with an", ". ", ";")
		m.Action = normalizeAction(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s[pe:end]), ":")))
		if r, re := find(s, end, phraseOnResource, true); r == end {
			stop := firstAnchor(s, re, "because", phraseExplicitDeny, phraseImplicitDeny)
			m.Resource = cleanResource(s[re:stop], stop == len(s))
		}
	}

	if _, end := find(s, 0, phraseBecauseNo, true); end >= 0 {
		m.DenyKind = DenyImplicit
		m.PolicyType, m.PolicyARN, _ = policyAt(s, end, false)
	}
	if _, end := find(s, 0, phraseImplicitDeny, true); end >= 0 {
		m.DenyKind = DenyImplicit
		m.PolicyType, m.PolicyARN, _ = policyAt(s, end, true)
	}
	if _, end := find(s, 0, phraseExplicitDeny, true); end >= 0 {
		m.DenyKind = DenyExplicit
		var next int
		m.PolicyType, m.PolicyARN, next = policyAt(s, end, true)
		if m.PolicyType != PolicyUnknown {
			if _, te := find(s, next, phraseTransitively, true); te >= 0 {
				if via, arn, _ := policyAt(s, te, false); via != PolicyUnknown {
					m.Via, m.PolicyType = m.PolicyType, via
					if arn != "" {
						m.PolicyARN = arn
					}
				}
			}
		}
	} else if has(s, phraseExplicitly) {
		m.DenyKind = DenyExplicit
	}
}

// policyAt reads "[in] [a|an|the] <policy type>[: <policy ARN>]" at i and
// returns the type, the ARN and where reading stopped.
func policyAt(s string, i int, in bool) (PolicyType, string, int) {
	if in {
		end, ok := matchAt(s, i, "in")
		if !ok {
			return PolicyUnknown, "", i
		}
		i = end
	}
	for _, p := range policyPhrases {
		start := i
		for _, a := range articles {
			if end, ok := matchAt(s, i, a); ok {
				if _, ok := matchAt(s, end, p.phrase); ok {
					start = end
					break
				}
			}
		}
		end, ok := matchAt(s, start, p.phrase)
		if !ok {
			continue
		}
		return p.typ, policyARNAt(s, end), end
	}
	return PolicyUnknown, "", i
}

// policyARNAt reads the ": arn:..." AWS appends after a policy type.
func policyARNAt(s string, i int) string {
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return ""
	}
	i = skipSpace(s, i+1)
	if _, ok := matchAt(s, i, "arn:"); !ok {
		return ""
	}
	stop := firstAnchor(s, i, phraseTransitively, phraseAllows)
	return strings.TrimRight(stripSpace(s[i:stop]), ".,;")
}

// principalBefore returns the principal written before "is not authorized"
// at na: after the last "User:" when there is one, else the ARN or word
// just before.
func principalBefore(s string, na int) string {
	from, named := -1, false
	for i := 0; ; {
		u, end := find(s[:na], i, phraseUser, true)
		if u < 0 {
			break
		}
		from, i, named = end, end, true
	}
	if from < 0 {
		from = strings.LastIndex(s[:na], "arn:")
	}
	if from < 0 {
		from = strings.LastIndexAny(strings.TrimRight(s[:na], " \t\r\n"), " \t\r\n") + 1
	}
	p := strings.Trim(stripSpace(s[from:na]), `"'`)
	// A principal is an ARN, a service principal or "anonymous"; a bare word
	// is prose ("The role is not authorized"), not a name.
	if named || strings.ContainsAny(p, ":./") || p == "anonymous" {
		return p
	}
	return ""
}

// normalizeAction turns "SNS:Publish" into "sns:Publish" and rejects text
// that is not an action ("this operation").
func normalizeAction(a string) string {
	a = stripSpace(a[:arnEnd(a)])
	if k := strings.IndexFunc(a, func(r rune) bool { return r > 127 || !isWordByte(byte(r)) && r != ':' && r != '*' && r != '?' }); k >= 0 {
		a = a[:k]
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" || !isActionPart(svc, false) || !isActionPart(name, true) {
		return ""
	}
	return strings.ToLower(svc) + ":" + name
}

func isActionPart(s string, wild bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case wild && (c == '*' || c == '?'):
		default:
			return false
		}
	}
	return true
}

// cleanResource trims quotes and white space: ARNs lose all of it (a line
// wrap inside an ARN), other names ("user bob") keep single spaces.
func cleanResource(r string, atEnd bool) string {
	r = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r), ":"))
	r = strings.Trim(r, "\"'`\\")
	if atEnd {
		r = strings.TrimSuffix(r, ".")
		r = strings.Trim(r, "\"'`")
	}
	if strings.HasPrefix(r, "arn:") {
		return stripSpace(r[:arnEnd(r)])
	}
	return strings.Join(strings.Fields(r), " ")
}

// arnEnd returns where an ARN written at the start of s ends: at the first
// white space that holds no line break. A line break (with the indentation
// around it) is a wrap inside the ARN; a plain space ends it, since ARNs
// have none. Quotes, brackets and braces end it too: they are the JSON or
// XML around a quoted message.
func arnEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '<', '>', '{', '}', '\\', '`':
			return i
		case ' ', '\t', '\r', '\n':
			j := i
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if !strings.ContainsAny(s[i:j], "\r\n") {
				return i
			}
			i = j - 1
		}
	}
	return len(s)
}

// encodedBlob returns EC2's encoded authorization message: the rest of the
// text, white space (line wraps) and closing punctuation removed.
func encodedBlob(s string) string {
	return strings.TrimRight(stripSpace(s), `"').,;`)
}

// find looks for phrase (lower-case) in s from index from, ignoring case and
// all white space in both, so that a line wrap anywhere (even inside a word)
// does not hide a keyword. With word, the match must start a word. It
// returns the match's start and end in s, or -1, -1.
func find(s string, from int, phrase string, word bool) (int, int) {
	lo, up := phrase[0], upper(phrase[0])
	for i := from; i < len(s); i++ {
		k := indexEither(s[i:], lo, up)
		if k < 0 {
			return -1, -1
		}
		i += k
		if word && i > 0 && isWordByte(s[i-1]) {
			continue
		}
		if end, ok := matchFrom(s, i, phrase); ok {
			return i, end
		}
	}
	return -1, -1
}

// indexEither is the first index of a or b in s, using the fast byte search
// the parser's speed rests on.
func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	within := s
	if i >= 0 {
		within = s[:i]
	}
	if k := strings.IndexByte(within, b); k >= 0 {
		return k
	}
	return i
}

// matchAt reports whether phrase starts at i, after optional white space,
// and returns where it ends.
func matchAt(s string, i int, phrase string) (int, bool) {
	return matchFrom(s, skipSpace(s, i), phrase)
}

func matchFrom(s string, i int, phrase string) (int, bool) {
	j := 0
	for j < len(phrase) {
		if isSpace(phrase[j]) {
			j++
			continue
		}
		if i >= len(s) {
			return 0, false
		}
		if isSpace(s[i]) {
			i++
			continue
		}
		if lower(s[i]) != phrase[j] {
			return 0, false
		}
		i++
		j++
	}
	return i, true
}

// firstAnchor returns the start of the earliest anchor phrase after i (at a
// word start), or len(s).
func firstAnchor(s string, i int, anchors ...string) int {
	best := len(s)
	for _, a := range anchors {
		if a == ". " || a == ";" {
			if k := strings.Index(s[i:], a); k >= 0 && i+k < best {
				best = i + k
			}
			continue
		}
		if k, _ := find(s[:best], i, a, true); k >= 0 {
			best = k
		}
	}
	return best
}

func has(s, phrase string) bool {
	k, _ := find(s, 0, phrase, false)
	return k >= 0
}

func hasAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if has(s, p) {
			return true
		}
	}
	return false
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// stripSpace removes every white space byte.
func stripSpace(s string) string {
	if strings.IndexAny(s, " \t\r\n") < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
