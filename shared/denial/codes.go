package denial

import "strings"

// Codes lists the CloudTrail errorCode values that mean "access denied",
// exactly as they are matched. A code also counts when it contains
// "AccessDenied" (e.g. "KMS.AccessDeniedException"); CodeSubstring says so.
// The EventBridge rule in template.yaml matches exactly this set.
var Codes = []string{
	"AccessDenied",
	"AccessDeniedException",
	"Client.UnauthorizedOperation",
	"UnauthorizedOperation",
	"AuthorizationError",
	"UnauthorizedAccess",
}

// CodeSubstring is the text whose presence anywhere in an errorCode makes it
// a denial code.
const CodeSubstring = "AccessDenied"

// IsDenialCode reports whether a CloudTrail errorCode is a denial.
func IsDenialCode(code string) bool {
	if strings.Contains(code, CodeSubstring) {
		return true
	}
	for _, c := range Codes {
		if code == c {
			return true
		}
	}
	return false
}
