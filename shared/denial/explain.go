package denial

import "github.com/denyfix/denyfix/shared/cloudtrail"

// Explain explains one CloudTrail record (a record built from free text
// carries only ErrorMessage). It reports false when the record is not a
// denial: a successful call, another error code, or text that is no denial.
func Explain(rec cloudtrail.Record) (Explanation, bool) {
	return Explanation{}, false
}

// ExplainText explains a free-text error message.
func ExplainText(text string) (Explanation, bool) {
	return Explain(cloudtrail.Record{ErrorMessage: text})
}
