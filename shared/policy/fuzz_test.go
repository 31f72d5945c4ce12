package policy_test

import (
	"testing"

	"github.com/denyfix/denyfix/shared/policy"
)

// FuzzEvaluate: any document that parses evaluates and lints without
// panicking, and removing ARN whitespace yields a document that parses.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		`{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":[" 111122223333"]},"NotAction":"s3:Put*","Resource":"arn:aws:s3::: b/*"}]}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"*","NotResource":"x","Condition":{"ForAllValues:NumericLessThanIfExists":{"k":[1,2]},"IpAddress":{"aws:SourceIp":"::1/200"}}}]}`,
	} {
		f.Add(s)
	}
	req := policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::b/k"}, PrincipalARN: "arn:aws:iam::111122223333:role/R", PrincipalAccount: "111122223333"}
	req.Set("aws:SourceIp", "198.51.100.1")
	req.Set("k", "5")
	req.SetAbsent("aws:SourceVpce")
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := policy.Parse([]byte(s))
		if err != nil {
			return
		}
		_ = policy.Evaluate(doc, req)
		_ = policy.Lint(doc)
		if fixed, changed := policy.RemoveARNWhitespace([]byte(s), doc); changed {
			if _, err := policy.Parse(fixed); err != nil {
				t.Errorf("corrected policy no longer parses: %v\n%s", err, fixed)
			}
		}
	})
}
