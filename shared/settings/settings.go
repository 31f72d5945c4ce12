// Package settings is the configuration of denyfix's Lambda functions, read
// from their environment through a getter so that tests never touch the
// process environment. Every value is validated once, at start-up, so a typo
// in a template parameter fails the deployment's first invocation loudly
// instead of silently changing what denyfix may do.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/denyfix/denyfix/shared/fix"
)

// The environment variables the functions read.
const (
	EnvTableName        = "TABLE_NAME"
	EnvEventBusName     = "EVENT_BUS_NAME"
	EnvTopicARN         = "TOPIC_ARN"
	EnvLogLevel         = "LOG_LEVEL"
	EnvDenyfixRoleARNs  = "DENYFIX_ROLE_ARNS"
	EnvIgnorePrincipals = "IGNORE_PRINCIPALS"
	EnvBucketAllowlist  = "BUCKET_ALLOWLIST"
	EnvAccountAllowlist = "ACCOUNT_ALLOWLIST"
	EnvApproverARNs     = "APPROVER_ARNS"
	EnvProposalTTL      = "PROPOSAL_TTL"
	EnvNotifyThresholds = "NOTIFY_THRESHOLDS"
)

// ModeEnv maps each fix kind to the variable holding its mode.
var ModeEnv = map[fix.Kind]string{
	fix.KindS3EnforceBucketOwner:              "MODE_S3_ENFORCE_BUCKET_OWNER",
	fix.KindS3ObjectACLBucketOwnerFullControl: "MODE_S3_OBJECT_ACL",
	fix.KindS3BucketPolicyARNWhitespace:       "MODE_S3_BUCKET_POLICY_ARN_WHITESPACE",
}

// Defaults applied when a variable is empty.
const (
	DefaultProposalTTL      = 72 * time.Hour
	DefaultNotifyThresholds = "1,10,100,1000"
)

// Mode says what denyfix does with a fix of one kind. The zero value,
// ModeNotify, is the safest: explain only, never change anything.
type Mode int

// The modes.
const (
	ModeNotify Mode = iota
	ModePropose
	ModeAuto
)

var modeNames = [...]string{ModeNotify: "notify", ModePropose: "propose", ModeAuto: "auto"}

// String returns the mode's configuration word.
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return modeNames[ModeNotify]
	}
	return modeNames[m]
}

// MarshalText encodes the configuration word.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes a configuration word; anything else is an error.
func (m *Mode) UnmarshalText(b []byte) error {
	p, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// ParseMode parses "notify", "propose" or "auto".
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return ModeNotify, fmt.Errorf("unknown mode %q (want notify, propose or auto)", s)
}

// Settings is the validated configuration of one function.
type Settings struct {
	TableName    string
	EventBusName string
	TopicARN     string
	LogLevel     slog.Level
	// DenyfixRoleARNs are denyfix's own roles: their denials are always
	// ignored so denyfix never reacts to itself.
	DenyfixRoleARNs []string
	// IgnorePrincipals are ARN patterns ("*" matches any run of characters).
	IgnorePrincipals []string
	Modes            map[fix.Kind]Mode
	// BucketAllowlist and AccountAllowlist are patterns of what a fix may
	// touch; empty means nothing may be changed.
	BucketAllowlist  []string
	AccountAllowlist []string
	ApproverARNs     []string
	ProposalTTL      time.Duration
	// NotifyThresholds are the occurrence counts at which a finding is
	// announced again, ascending.
	NotifyThresholds []int64
}

// Parse reads and validates the configuration through get (os.Getenv in
// the functions' main). All problems are reported together.
func Parse(get func(string) string) (Settings, error) {
	s := Settings{
		TableName:        strings.TrimSpace(get(EnvTableName)),
		EventBusName:     strings.TrimSpace(get(EnvEventBusName)),
		TopicARN:         strings.TrimSpace(get(EnvTopicARN)),
		DenyfixRoleARNs:  list(get(EnvDenyfixRoleARNs)),
		IgnorePrincipals: list(get(EnvIgnorePrincipals)),
		BucketAllowlist:  list(get(EnvBucketAllowlist)),
		AccountAllowlist: list(get(EnvAccountAllowlist)),
		ApproverARNs:     list(get(EnvApproverARNs)),
		Modes:            map[fix.Kind]Mode{},
		ProposalTTL:      DefaultProposalTTL,
	}
	var errs []error
	if lv := strings.TrimSpace(get(EnvLogLevel)); lv != "" {
		if err := s.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvLogLevel, err))
		}
	}
	for _, k := range fix.Kinds() {
		name := ModeEnv[k]
		m := ModePropose
		if v := strings.TrimSpace(get(name)); v != "" {
			var err error
			if m, err = ParseMode(strings.ToLower(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
		}
		if m == ModeAuto && !k.AutoAllowed() {
			errs = append(errs, fmt.Errorf("%s: %s widens access and is never applied automatically; use propose or notify", name, k))
			continue
		}
		s.Modes[k] = m
	}
	if v := strings.TrimSpace(get(EnvProposalTTL)); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", EnvProposalTTL, err))
		case d <= 0:
			errs = append(errs, fmt.Errorf("%s: %q must be positive", EnvProposalTTL, v))
		default:
			s.ProposalTTL = d
		}
	}
	th := strings.TrimSpace(get(EnvNotifyThresholds))
	if th == "" {
		th = DefaultNotifyThresholds
	}
	var err error
	if s.NotifyThresholds, err = parseThresholds(th); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvNotifyThresholds, err))
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return s, nil
}

// Require reports the named variables (EnvTableName, ...) a function needs
// but did not get.
func (s Settings) Require(names ...string) error {
	var missing []string
	for _, n := range names {
		var v string
		switch n {
		case EnvTableName:
			v = s.TableName
		case EnvEventBusName:
			v = s.EventBusName
		case EnvTopicARN:
			v = s.TopicARN
		default:
			return fmt.Errorf("%s cannot be required", n)
		}
		if v == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing configuration: %s", strings.Join(missing, ", "))
	}
	return nil
}

// ModeFor returns the configured mode of a fix kind; kinds outside the
// catalogue are notify-only.
func (s Settings) ModeFor(k fix.Kind) Mode {
	if m, ok := s.Modes[k]; ok {
		return m
	}
	return ModeNotify
}

// IgnoreReason says why a principal's denials are ignored ("denyfix role"
// or "ignored principal"), or "" when they are not. Pass every ARN the
// record names for the caller: an assumed-role session ARN and its issuer
// role ARN.
func (s Settings) IgnoreReason(arns ...string) string {
	for _, a := range arns {
		if a == "" {
			continue
		}
		for _, r := range s.DenyfixRoleARNs {
			if a == r || sameRole(a, r) {
				return "denyfix role"
			}
		}
		if MatchAny(s.IgnorePrincipals, a) {
			return "ignored principal"
		}
	}
	return ""
}

// BucketAllowed reports whether fixes may touch the bucket in the account.
func (s Settings) BucketAllowed(account, bucket string) bool {
	return account != "" && bucket != "" && MatchAny(s.AccountAllowlist, account) && MatchAny(s.BucketAllowlist, bucket)
}

// IsApprover reports whether the caller ARN may decide proposals. An
// approver listed as a role also covers its assumed-role sessions.
func (s Settings) IsApprover(arn string) bool {
	role := sessionRole(arn)
	for _, a := range s.ApproverARNs {
		if a == arn || sameRole(arn, a) {
			return true
		}
		// A pattern written for roles (role/Admin*) must match the
		// assumed-role session ARN the Function URL reports too.
		if strings.Contains(a, "*") && (Match(a, arn) || role != "" && Match(a, role)) {
			return true
		}
	}
	return false
}

// sessionRole turns an STS assumed-role session ARN into the ARN of its role
// without a path (arn:aws:iam::111:role/Name); "" for other ARNs.
func sessionRole(session string) string {
	f := strings.SplitN(session, ":", 6)
	if len(f) != 6 || f[2] != "sts" || !strings.HasPrefix(f[5], "assumed-role/") {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(f[5], "assumed-role/"), "/")
	return "arn:" + f[1] + ":iam::" + f[4] + ":role/" + name
}

// sameRole reports whether session is an STS assumed-role ARN of role
// (arn:aws:sts::111:assumed-role/Name/session vs arn:aws:iam::111:role/path/Name).
func sameRole(session, role string) bool {
	sp := strings.SplitN(session, ":", 6)
	rp := strings.SplitN(role, ":", 6)
	if len(sp) != 6 || len(rp) != 6 || sp[2] != "sts" || rp[2] != "iam" || sp[4] != rp[4] {
		return false
	}
	sr, ok := strings.CutPrefix(sp[5], "assumed-role/")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(sr, "/")
	rr, ok := strings.CutPrefix(rp[5], "role/")
	if !ok {
		return false
	}
	return rr[strings.LastIndex(rr, "/")+1:] == name
}

// MatchAny reports whether s matches one of the patterns.
func MatchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where "*" matches any run of
// characters, slashes included (unlike path.Match: ARNs are not paths).
func Match(pattern, s string) bool {
	first, rest, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == s
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for i := 0; i <= len(s); i++ {
		if Match(rest, s[i:]) {
			return true
		}
	}
	return false
}

func list(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseThresholds(v string) ([]int64, error) {
	var out []int64
	for _, f := range list(v) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("thresholds must ascend: %d after %d", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no thresholds")
	}
	return out, nil
}
