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
	c = s3probe.PolicyVerdict(c, doc, t.Request, "session", true)
	switch {
	case c.Result == s3probe.ResultPass && len(managed) > 0:
		c.Result = s3probe.ResultUnknown
		c.Detail += "; managed session policies not checked: " + strings.Join(managed, ", ")
	case c.Result == s3probe.ResultFail && !c.Facts.Explicit:
		c.Detail = fmt.Sprintf("the session policy passed to %s allows nothing that covers %s on %s", assume.EventName, t.Request.Action, strings.Join(t.Request.Resources, ", "))
	}
	return c
}
