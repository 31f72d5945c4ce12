// Package cloudtrail reads CloudTrail records in every shape denyfix accepts:
// EventBridge events, bare records, CloudTrail log files (plain or gzip),
// JSON Lines, and free text holding an AWS error message.
//
// It only reads; it knows nothing about what a denial means (package denial
// does). Everything here is pure decoding over an io.Reader.
package cloudtrail

import (
	"encoding/json"
	"strings"
	"time"
)

// Record is one CloudTrail event record, limited to the fields denyfix reads.
// Field names and JSON keys are exactly CloudTrail's. Request parameters and
// additional event data stay raw: their shape differs per service.
type Record struct {
	EventVersion         string          `json:"eventVersion,omitempty"`
	UserIdentity         UserIdentity    `json:"userIdentity"`
	EventTime            string          `json:"eventTime,omitempty"`
	EventSource          string          `json:"eventSource,omitempty"`
	EventName            string          `json:"eventName,omitempty"`
	AWSRegion            string          `json:"awsRegion,omitempty"`
	SourceIPAddress      string          `json:"sourceIPAddress,omitempty"`
	UserAgent            string          `json:"userAgent,omitempty"`
	ErrorCode            string          `json:"errorCode,omitempty"`
	ErrorMessage         string          `json:"errorMessage,omitempty"`
	RequestParameters    json.RawMessage `json:"requestParameters,omitempty"`
	ResponseElements     json.RawMessage `json:"responseElements,omitempty"`
	AdditionalEventData  json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID            string          `json:"requestID,omitempty"`
	EventID              string          `json:"eventID,omitempty"`
	ReadOnly             *bool           `json:"readOnly,omitempty"`
	Resources            []Resource      `json:"resources,omitempty"`
	EventType            string          `json:"eventType,omitempty"`
	ManagementEvent      *bool           `json:"managementEvent,omitempty"`
	RecipientAccountID   string          `json:"recipientAccountId,omitempty"`
	SharedEventID        string          `json:"sharedEventID,omitempty"`
	VPCEndpointID        string          `json:"vpcEndpointId,omitempty"`
	VPCEndpointAccountID string          `json:"vpcEndpointAccountId,omitempty"`
	EventCategory        string          `json:"eventCategory,omitempty"`
	TLSDetails           *TLSDetails     `json:"tlsDetails,omitempty"`
}

// UserIdentity is CloudTrail's description of who made the call.
type UserIdentity struct {
	Type           string          `json:"type,omitempty"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes temporary credentials: how they were issued and
// whether MFA was used.
type SessionContext struct {
	Attributes     SessionAttributes `json:"attributes"`
	SessionIssuer  *SessionIssuer    `json:"sessionIssuer,omitempty"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// SessionAttributes holds the session's MFA flag and creation time. CloudTrail
// writes mfaAuthenticated as the string "true" or "false".
type SessionAttributes struct {
	MFAAuthenticated string `json:"mfaAuthenticated,omitempty"`
	CreationDate     string `json:"creationDate,omitempty"`
}

// SessionIssuer is the role or user whose credentials the session came from.
type SessionIssuer struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// Resource is one entry of a record's resources list.
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// TLSDetails records the TLS session of the request; its presence means the
// request used HTTPS (aws:SecureTransport).
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion,omitempty"`
	CipherSuite              string `json:"cipherSuite,omitempty"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader,omitempty"`
}

// Event is the EventBridge envelope around a CloudTrail record
// (detail-type "AWS API Call via CloudTrail") or around any other event.
type Event struct {
	Version    string          `json:"version,omitempty"`
	ID         string          `json:"id,omitempty"`
	DetailType string          `json:"detail-type,omitempty"`
	Source     string          `json:"source,omitempty"`
	Account    string          `json:"account,omitempty"`
	Time       string          `json:"time,omitempty"`
	Region     string          `json:"region,omitempty"`
	Resources  []string        `json:"resources,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

// DetailTypeAPICall is the detail-type EventBridge gives CloudTrail records
// of API calls, the ones denials are recorded in.
const DetailTypeAPICall = "AWS API Call via CloudTrail"

// IsCloudTrailDetailType reports whether an EventBridge detail-type carries a
// CloudTrail record: API calls, console sign-ins and actions, service events
// ("... via CloudTrail").
func IsCloudTrailDetailType(dt string) bool {
	return strings.HasSuffix(dt, " via CloudTrail")
}

// Service returns the service part of the event source
// ("s3.amazonaws.com" → "s3"), or "" when the record has none.
func (r *Record) Service() string {
	s, _, _ := strings.Cut(r.EventSource, ".")
	return s
}

// Account returns the account the call was made in: the recipient account,
// else the caller's account.
func (r *Record) Account() string {
	if r.RecipientAccountID != "" {
		return r.RecipientAccountID
	}
	return r.UserIdentity.AccountID
}

// Time parses EventTime; the zero time when it is absent or malformed.
func (r *Record) Time() time.Time {
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return time.Time{}
	}
	return t
}

// PrincipalARN returns the caller's ARN as CloudTrail recorded it: the
// identity ARN, else the session issuer's, else "" (anonymous callers and
// some AWS service calls have neither).
func (r *Record) PrincipalARN() string {
	if r.UserIdentity.ARN != "" {
		return r.UserIdentity.ARN
	}
	if sc := r.UserIdentity.SessionContext; sc != nil && sc.SessionIssuer != nil {
		return sc.SessionIssuer.ARN
	}
	return ""
}

// RequestParam returns a top-level string request parameter ("bucketName",
// "key", "x-amz-request-payer"); "" when absent or not a string.
func (r *Record) RequestParam(name string) string {
	if len(r.RequestParameters) == 0 {
		return ""
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(r.RequestParameters, &params) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(params[name], &s) != nil {
		return ""
	}
	return s
}
