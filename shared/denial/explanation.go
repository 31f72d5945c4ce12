package denial

// Explanation is denyfix's answer for one denial: the JSON object of
// DESIGN.md "Explanation", one per denial. Absent facts are null, never "".
type Explanation struct {
	ErrorCode    *string     `json:"errorCode"`
	ErrorMessage string      `json:"errorMessage"`
	EventID      *string     `json:"eventId"`
	EventTime    *string     `json:"eventTime"`
	Account      *string     `json:"account"`
	Region       *string     `json:"region"`
	Service      *string     `json:"service"`
	EventName    *string     `json:"eventName"`
	Principal    *string     `json:"principal"`
	Action       *string     `json:"action"`
	Resource     *string     `json:"resource"`
	PolicyType   PolicyType  `json:"policyType"`
	DenyKind     DenyKind    `json:"denyKind"`
	Via          *PolicyType `json:"via"`
	PolicyARN    *string     `json:"policyArn"`
	Cause        Cause       `json:"cause"`
	Summary      string      `json:"summary"`
	NextSteps    []string    `json:"nextSteps"`
}
