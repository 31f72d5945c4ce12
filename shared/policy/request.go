package policy

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/denyfix/denyfix/shared/cloudtrail"
)

// Request is the request context a policy is evaluated against: who asked,
// for what, on what, and the condition keys whose values are known.
//
// A condition key is in one of three states: present (Values holds it),
// known to be absent from the request (Absent holds it), or unknown (neither):
// CloudTrail does not record it, so a condition on it is not evaluable.
type Request struct {
	// Action is the IAM action, e.g. "s3:GetObject".
	Action string
	// Resources are the ARNs the action applies to; a statement matches
	// when it matches any of them.
	Resources []string
	// PrincipalARN is aws:PrincipalArn: the role ARN for an assumed role
	// session, the user ARN for a user; "" when anonymous or unknown.
	PrincipalARN string
	// PrincipalAccount is the caller's account; "" when anonymous or unknown.
	PrincipalAccount string
	// Anonymous is true for unsigned requests.
	Anonymous bool
	// Values maps lower-cased condition keys to their values.
	Values map[string][]string
	// Absent lists lower-cased condition keys known not to be in the request.
	Absent map[string]bool
}

// Set records a present key.
func (r *Request) Set(key string, values ...string) {
	if r.Values == nil {
		r.Values = map[string][]string{}
	}
	k := strings.ToLower(key)
	r.Values[k] = values
	delete(r.Absent, k)
}

// SetAbsent records a key known not to be in the request.
func (r *Request) SetAbsent(key string) {
	if r.Absent == nil {
		r.Absent = map[string]bool{}
	}
	k := strings.ToLower(key)
	r.Absent[k] = true
	delete(r.Values, k)
}

// Lookup returns a key's values and its state.
func (r Request) Lookup(key string) (values []string, state KeyState) {
	k := strings.ToLower(key)
	if v, ok := r.Values[k]; ok {
		return v, KeyPresent
	}
	if r.Absent[k] {
		return nil, KeyAbsent
	}
	return nil, KeyUnknown
}

// KeyState says what is known about a condition key in a request.
type KeyState int

// The key states; the zero value means nothing is known.
const (
	KeyUnknown KeyState = iota
	KeyPresent
	KeyAbsent
)

// RequestFromRecord builds the request context CloudTrail lets us know for
// one record. action and resources are the caller's choice because the
// mapping from API operation to IAM action is per service.
func RequestFromRecord(rec cloudtrail.Record, action string, resources []string) Request {
	r := Request{Action: action, Resources: resources}
	id := rec.UserIdentity
	r.Anonymous = id.AccountID == "anonymous" || (id.Type == "AWSAccount" && id.PrincipalID == "" && id.ARN == "")

	// Principal keys. For a role session aws:PrincipalArn is the role, not
	// the sts assumed-role ARN CloudTrail writes as the identity.
	switch {
	case r.Anonymous:
		for _, k := range []string{"aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid", "aws:username"} {
			r.SetAbsent(k)
		}
	default:
		arn := id.ARN
		if id.Type == "AssumedRole" && id.SessionContext != nil && id.SessionContext.SessionIssuer != nil && id.SessionContext.SessionIssuer.ARN != "" {
			arn = id.SessionContext.SessionIssuer.ARN
		}
		if arn != "" {
			r.PrincipalARN = arn
			r.Set("aws:PrincipalArn", arn)
		}
		if id.AccountID != "" {
			r.PrincipalAccount = id.AccountID
			r.Set("aws:PrincipalAccount", id.AccountID)
		}
		if id.PrincipalID != "" {
			r.Set("aws:userid", id.PrincipalID)
		}
		if id.Type == "IAMUser" && id.UserName != "" {
			r.Set("aws:username", id.UserName)
		} else if id.Type != "" {
			r.SetAbsent("aws:username")
		}
	}

	// Network keys. Through a VPC endpoint aws:SourceIp is not available
	// (AWS documents aws:VpcSourceIp instead); CloudTrail records the
	// endpoint whenever one was used, so its absence is knowledge.
	ip, ipErr := netip.ParseAddr(rec.SourceIPAddress)
	if rec.VPCEndpointID != "" {
		r.Set("aws:SourceVpce", rec.VPCEndpointID)
		r.SetAbsent("aws:SourceIp")
		if ipErr == nil {
			r.Set("aws:VpcSourceIp", ip.String())
		}
	} else if rec.EventID != "" {
		r.SetAbsent("aws:SourceVpce")
		r.SetAbsent("aws:SourceVpc")
		r.SetAbsent("aws:VpcSourceIp")
		if ipErr == nil {
			r.Set("aws:SourceIp", ip.String())
		}
	}

	// MFA: long-term keys carry no MFA keys at all; sessions carry the flag.
	switch {
	case id.SessionContext != nil && id.SessionContext.Attributes.MFAAuthenticated != "":
		mfa := strings.ToLower(id.SessionContext.Attributes.MFAAuthenticated)
		r.Set("aws:MultiFactorAuthPresent", mfa)
		if mfa == "true" {
			if age, ok := sessionAge(rec); ok {
				r.Set("aws:MultiFactorAuthAge", strconv.FormatInt(age, 10))
			}
		} else {
			r.SetAbsent("aws:MultiFactorAuthAge")
		}
	case r.Anonymous || (id.Type == "IAMUser" && strings.HasPrefix(id.AccessKeyID, "AKIA")):
		r.SetAbsent("aws:MultiFactorAuthPresent")
		r.SetAbsent("aws:MultiFactorAuthAge")
	}

	// TLS: S3 writes tlsDetails for every HTTPS request a client sends from
	// event version 1.08 on, so there its absence means plain HTTP. Other
	// services record it only for some APIs, and calls an AWS service makes
	// on the caller's behalf (sourceIPAddress is the service's name, or
	// invokedBy is set) carry none: there its absence says nothing, and
	// reading it as "false" would blame every aws:SecureTransport Deny.
	clientCall := ipErr == nil && id.InvokedBy == ""
	switch {
	case rec.TLSDetails != nil:
		r.Set("aws:SecureTransport", "true")
	case rec.EventSource == "s3.amazonaws.com" && clientCall && versionAtLeast(rec.EventVersion, 1, 8):
		r.Set("aws:SecureTransport", "false")
	}

	if t := rec.Time(); !t.IsZero() {
		r.Set("aws:CurrentTime", t.UTC().Format(time.RFC3339))
		r.Set("aws:EpochTime", strconv.FormatInt(t.Unix(), 10))
	}
	if rec.AWSRegion != "" {
		r.Set("aws:RequestedRegion", rec.AWSRegion)
	}

	// Request headers S3 conditions read. CloudTrail copies them into
	// requestParameters when sent, so when the parameters are recorded an
	// absent header was not sent.
	if len(rec.RequestParameters) > 0 {
		var params map[string]json.RawMessage
		if json.Unmarshal(rec.RequestParameters, &params) == nil {
			for _, h := range []string{"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-acl", "x-amz-request-payer"} {
				key := "s3:" + h
				if h == "x-amz-request-payer" {
					key = h
				}
				raw, ok := params[h]
				if !ok {
					r.SetAbsent(key)
					continue
				}
				var l List
				if json.Unmarshal(raw, &l) == nil && len(l) > 0 {
					r.Set(key, l...)
				}
			}
		}
	}
	return r
}

func sessionAge(rec cloudtrail.Record) (int64, bool) {
	sc := rec.UserIdentity.SessionContext
	created, err := time.Parse(time.RFC3339, sc.Attributes.CreationDate)
	at := rec.Time()
	if err != nil || at.IsZero() || at.Before(created) {
		return 0, false
	}
	return int64(at.Sub(created) / time.Second), true
}

func versionAtLeast(v string, major, minor int) bool {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
