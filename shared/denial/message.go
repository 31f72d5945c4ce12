package denial

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
	// Denial reports whether the text reads as an access denial at all.
	Denial bool
}

// ParseMessage parses an access denied message, tolerating wrappers, line
// wraps anywhere and truncation. It never fails: what it cannot read stays empty.
func ParseMessage(text string) Message {
	return Message{Text: text}
}
