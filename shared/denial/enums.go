package denial

import "fmt"

// PolicyType is the kind of policy a person must change to undo a denial.
// The zero value, PolicyUnknown, means the message does not say.
type PolicyType int

// The policy types AWS names in access denied messages.
const (
	PolicyUnknown PolicyType = iota
	PolicyIdentityBased
	PolicyResourceBased
	PolicyPermissionsBoundary
	PolicySession
	PolicySCP
	PolicyRCP
	PolicyVPCEndpoint
	PolicyRoleTrust
)

var policyTypeNames = [...]string{
	PolicyUnknown:             "unknown",
	PolicyIdentityBased:       "identity_based_policy",
	PolicyResourceBased:       "resource_based_policy",
	PolicyPermissionsBoundary: "permissions_boundary",
	PolicySession:             "session_policy",
	PolicySCP:                 "service_control_policy",
	PolicyRCP:                 "resource_control_policy",
	PolicyVPCEndpoint:         "vpc_endpoint_policy",
	PolicyRoleTrust:           "role_trust_policy",
}

// String returns the JSON name, e.g. "service_control_policy".
func (p PolicyType) String() string { return enumName(policyTypeNames[:], int(p)) }

// MarshalText encodes the JSON name.
func (p PolicyType) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a JSON name; unknown names are an error.
func (p *PolicyType) UnmarshalText(b []byte) error {
	return enumParse(policyTypeNames[:], "policy type", b, (*int)(p))
}

// DenyKind says whether a Deny statement matched (explicit) or no Allow did
// (implicit). The zero value, DenyUnknown, means the message does not say.
type DenyKind int

// The deny kinds.
const (
	DenyUnknown DenyKind = iota
	DenyExplicit
	DenyImplicit
)

var denyKindNames = [...]string{DenyUnknown: "unknown", DenyExplicit: "explicit", DenyImplicit: "implicit"}

// String returns the JSON name.
func (k DenyKind) String() string { return enumName(denyKindNames[:], int(k)) }

// MarshalText encodes the JSON name.
func (k DenyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a JSON name; unknown names are an error.
func (k *DenyKind) UnmarshalText(b []byte) error {
	return enumParse(denyKindNames[:], "deny kind", b, (*int)(k))
}

// Cause is the concrete reason for a denial, from a closed catalogue. The
// zero value, CauseUnknown, is a normal answer: denyfix never guesses.
type Cause int

// The cause catalogue (DESIGN.md "Cause catalogue").
const (
	CauseUnknown Cause = iota
	CauseExplicitDeny
	CauseMissingAllow
	CauseCrossAccountObjectOwnership
	CauseBucketPolicyDeny
	CauseBucketPolicyMissingAllow
	CauseIAMPermissions
	CauseOrgPolicyDeny
	CauseVPCEndpointPolicy
	CauseAccessPointPolicy
	CauseBlockPublicAccess
	CauseKMS
	CauseRequesterPays
	CauseMissingObjectMasked
	CausePolicyARNWhitespace
	CausePresignedURLExpired
	CauseEncryptionTypeBlocked
	CauseSessionPolicy
	CausePermissionsBoundary
)

var causeNames = [...]string{
	CauseUnknown:                     "unknown",
	CauseExplicitDeny:                "explicit_deny",
	CauseMissingAllow:                "missing_allow",
	CauseCrossAccountObjectOwnership: "cross_account_object_ownership",
	CauseBucketPolicyDeny:            "bucket_policy_deny",
	CauseBucketPolicyMissingAllow:    "bucket_policy_missing_allow",
	CauseIAMPermissions:              "iam_permissions",
	CauseOrgPolicyDeny:               "org_policy_deny",
	CauseVPCEndpointPolicy:           "vpc_endpoint_policy",
	CauseAccessPointPolicy:           "access_point_policy",
	CauseBlockPublicAccess:           "block_public_access",
	CauseKMS:                         "kms",
	CauseRequesterPays:               "requester_pays",
	CauseMissingObjectMasked:         "missing_object_masked",
	CausePolicyARNWhitespace:         "policy_arn_whitespace",
	CausePresignedURLExpired:         "presigned_url_expired",
	CauseEncryptionTypeBlocked:       "encryption_type_blocked",
	CauseSessionPolicy:               "session_policy",
	CausePermissionsBoundary:         "permissions_boundary",
}

// Causes lists every cause in catalogue order, for documentation and tests.
func Causes() []Cause {
	out := make([]Cause, len(causeNames))
	for i := range out {
		out[i] = Cause(i)
	}
	return out
}

// String returns the catalogue code, e.g. "bucket_policy_deny".
func (c Cause) String() string { return enumName(causeNames[:], int(c)) }

// MarshalText encodes the catalogue code.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a catalogue code; unknown codes are an error.
func (c *Cause) UnmarshalText(b []byte) error {
	return enumParse(causeNames[:], "cause", b, (*int)(c))
}

// ParseCause returns the cause with the given catalogue code.
func ParseCause(code string) (Cause, error) {
	var c Cause
	err := c.UnmarshalText([]byte(code))
	return c, err
}

func enumName(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return names[0]
	}
	return names[i]
}

func enumParse(names []string, what string, b []byte, dst *int) error {
	for i, n := range names {
		if n == string(b) {
			*dst = i
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q", what, b)
}
