package diagnosis

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/policy"
	"github.com/denyfix/denyfix/shared/s3probe"
)

// CheckSessionPolicy is the evidence line for the session policy passed to
// AssumeRole, read from that call's CloudTrail record.
const CheckSessionPolicy = "session_policy"

// SessionPolicyCheck evaluates the inline session policy that the
// AssumeRole call behind the denied request passed (requestParameters.policy
// of its CloudTrail record). A session policy only narrows the role: the
// request must be allowed by it, and a Deny in it wins. Managed session
// policies (policyArns) are listed, not read. It is pure.
func SessionPolicyCheck(assume cloudtrail.Record, t s3probe.Target) s3probe.Check {
	c := s3probe.Check{Name: CheckSessionPolicy, Calls: []string{}}
	if assume.EventName != "AssumeRole" && assume.EventName != "AssumeRoleWithSAML" && assume.EventName != "AssumeRoleWithWebIdentity" && assume.EventName != "GetFederationToken" {
		c.Detail = fmt.Sprintf("the given record is %s, not an AssumeRole call", orText(assume.EventName, "unnamed"))
		return c
	}
	var resp struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"credentials"`
	}
	_ = json.Unmarshal(assume.ResponseElements, &resp)
	if key := t.Record.UserIdentity.AccessKeyID; resp.Credentials.AccessKeyID != "" && key != "" && resp.Credentials.AccessKeyID != key {
		c.Detail = fmt.Sprintf("the %s record issued access key %s, but the denied request used %s: find the %s event of this session", assume.EventName, resp.Credentials.AccessKeyID, key, assume.EventName)
		return c
	}
	var params struct {
		Policy     string `json:"policy"`
		PolicyArns []struct {
			ARN string `json:"arn"`
		} `json:"policyArns"`
	}
	if err := json.Unmarshal(assume.RequestParameters, &params); err != nil {
		c.Detail = fmt.Sprintf("the %s record's requestParameters cannot be read: %v", assume.EventName, err)
		return c
	}
	var managed []string
	for _, p := range params.PolicyArns {
		managed = append(managed, p.ARN)
	}
	if params.Policy == "" {
		if len(managed) > 0 {
			c.Detail = "the session has managed session policies, not checked here: " + strings.Join(managed, ", ")
			return c
		}
		c.Result, c.Detail = s3probe.ResultPass, "the session was created without a session policy"
		return c
	}
	doc, err := policy.Parse([]byte(params.Policy))
	if err != nil {
		c.Detail = fmt.Sprintf("the session policy cannot be read: %v", err)
		return c
	}
	req := t.Request
	var allow, unknown *policy.Result
	for _, r := range policy.Evaluate(doc, req) {
		r := r
		switch {
		case r.Outcome == policy.Matches && r.Statement.IsDeny():
			c.Result, c.Sid, c.ConditionKey = s3probe.ResultFail, r.Statement.Sid, r.Key()
			c.Facts.Explicit = true
			c.Detail = fmt.Sprintf("session policy statement %q denies %s", r.Name(), req.Action)
			return c
		case r.Outcome == policy.Matches && allow == nil:
			allow = &r
		case r.Outcome == policy.NotEvaluable && unknown == nil:
			unknown = &r
		}
	}
	switch {
	case unknown != nil:
		c.Sid, c.ConditionKey = unknown.Statement.Sid, unknown.Key()
		c.Detail = fmt.Sprintf("session policy statement %q may apply: %s", unknown.Name(), unknown.Reason)
	case allow != nil:
		c.Result, c.Sid = s3probe.ResultPass, allow.Statement.Sid
		c.Detail = fmt.Sprintf("session policy statement %q allows %s", allow.Name(), req.Action)
		if len(managed) > 0 {
			c.Result = s3probe.ResultUnknown
			c.Detail += "; managed session policies not checked: " + strings.Join(managed, ", ")
		}
	default:
		c.Result = s3probe.ResultFail
		c.Detail = fmt.Sprintf("the session policy passed to %s allows nothing that covers %s on %s", assume.EventName, req.Action, strings.Join(req.Resources, ", "))
	}
	return c
}
