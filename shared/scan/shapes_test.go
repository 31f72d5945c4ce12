package scan

import (
	"context"
	"strings"
	"testing"
)

const denialRecord = `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::777788889999:user/JohnDoe","accountId":"777788889999","userName":"JohnDoe"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"codecommit.amazonaws.com","eventName":"ListRepositories","awsRegion":"us-east-1","errorCode":"AccessDeniedException","errorMessage":"User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy","recipientAccountId":"777788889999"}`

const successRecord = `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::777788889999:user/JohnDoe","accountId":"777788889999"},"eventTime":"2026-11-20T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"777788889999"}`

// TestRunShapes reads the other shapes CloudTrail data comes in from stdin.
func TestRunShapes(t *testing.T) {
	tests := []struct {
		name             string
		in               string
		records, denials int64
		fails            bool
	}{
		{"log file", `{"Records":[` + denialRecord + `,` + successRecord + `]}`, 2, 1, false},
		{"JSON Lines", denialRecord + "\n" + successRecord + "\n" + denialRecord + "\n", 3, 2, false},
		{"array", `[` + successRecord + `,` + denialRecord + `]`, 2, 1, false},
		{"EventBridge event", `{"version":"0","id":"7f6d","detail-type":"AWS API Call via CloudTrail","source":"aws.codecommit","account":"777788889999","time":"2026-11-20T10:00:00Z","region":"us-east-1","resources":[],"detail":` + denialRecord + `}`, 1, 1, false},
		{"other JSON", `{"name":"web","version":"1.0.0"}`, 0, 0, true},
		{"text", "hello\n", 0, 0, true},
		{"empty", "", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), []string{"-"}, Config{Stdin: strings.NewReader(tc.in)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Records != tc.records || r.Denials != tc.denials {
				t.Errorf("records, denials: got %d, %d; want %d, %d", r.Records, r.Denials, tc.records, tc.denials)
			}
			if got := !r.Complete(); got != tc.fails {
				t.Errorf("failed: got %v (%v); want %v", got, r.Failed, tc.fails)
			}
			if tc.fails && (len(r.Failed) != 1 || r.Failed[0].Name != "-") {
				t.Errorf("failed inputs: got %v; want stdin (-) named", r.Failed)
			}
		})
	}
}
