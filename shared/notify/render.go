// Package notify turns denyfix bus events into notifications: an AWS Chatbot
// (Amazon Q Developer in chat applications) custom notification for Slack,
// plain text for email, and SNS message attributes for subscription filter
// policies. The renderers are pure; Publisher sends the result to SNS.
package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/finding"
)

// Chatbot is a custom notification in the schema Chatbot documents
// ("Custom notifications using Amazon Q Developer in chat applications").
type Chatbot struct {
	Version  string          `json:"version"`
	Source   string          `json:"source"`
	ID       string          `json:"id,omitempty"`
	Content  ChatbotContent  `json:"content"`
	Metadata ChatbotMetadata `json:"metadata"`
}

// ChatbotContent is what the chat message shows.
type ChatbotContent struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatbotMetadata threads and labels the message.
type ChatbotMetadata struct {
	// ThreadID groups every event about one finding in one chat thread.
	ThreadID          string            `json:"threadId"`
	Summary           string            `json:"summary"`
	EventType         string            `json:"eventType"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// Notification is one event rendered for every channel.
type Notification struct {
	// Subject is the email subject: SNS allows at most 100 printable ASCII
	// characters and no line breaks.
	Subject string
	// Chatbot is the custom notification JSON for chat channels.
	Chatbot []byte
	// Text is the plain-text body for email.
	Text string
	// Attributes are the SNS message attributes subscription filter
	// policies match on: cause, policyType, eventType, account.
	Attributes map[string]string
}

// Limits that keep a notification inside what Slack shows and SNS accepts.
const (
	maxSubject     = 99 // SNS: "less than 100 characters"
	maxTitle       = 250
	maxDescription = 8000
)

// Render renders one denyfix event. eventID is the EventBridge event id.
func Render(dt bus.DetailType, eventID string, d bus.Detail) (Notification, error) {
	var exp denial.Explanation
	if len(d.Explanation) > 0 {
		// A newer explanation with fields this build does not know still
		// renders; only a broken document is an error.
		if err := json.Unmarshal(d.Explanation, &exp); err != nil {
			return Notification{}, fmt.Errorf("render %s %s: explanation: %w", dt, d.Fingerprint, err)
		}
	}
	headline := headline(dt, d, exp)
	cb := Chatbot{
		Version: "1.0",
		Source:  "custom",
		ID:      eventID,
		Content: ChatbotContent{
			TextType:    "client-markdown",
			Title:       clip(emoji(dt)+" "+headline, maxTitle),
			Description: clip(description(dt, d, exp, true), maxDescription),
			NextSteps:   nextSteps(dt, d, exp),
			Keywords:    keywords(dt, d, exp),
		},
		Metadata: ChatbotMetadata{
			ThreadID:         "denyfix-" + d.Fingerprint,
			Summary:          clip(headline, maxTitle),
			EventType:        dt.String(),
			RelatedResources: related(d),
			AdditionalContext: map[string]string{
				"fingerprint": d.Fingerprint,
				"count":       fmt.Sprint(d.Count),
			},
		},
	}
	body, err := json.MarshalIndent(cb, "", "  ")
	if err != nil {
		return Notification{}, fmt.Errorf("render %s: %w", dt, err)
	}
	return Notification{
		Subject:    subject("denyfix: " + headline),
		Chatbot:    body,
		Text:       text(dt, d, exp),
		Attributes: attributes(dt, d, exp),
	}, nil
}

func headline(dt bus.DetailType, d bus.Detail, exp denial.Explanation) string {
	what := orDash(d.Action)
	if d.Resource != "" {
		what += " on " + d.Resource
	}
	fixSummary := ""
	if d.Proposal != nil {
		fixSummary = d.Proposal.Fix.Kind.String() + " on " + d.Proposal.Fix.Bucket
	}
	switch dt {
	case bus.DenialDiagnosed:
		return fmt.Sprintf("Access denied: %s (%s)", what, d.Cause)
	case bus.FixProposed:
		return "Fix proposed: " + fixSummary
	case bus.FixApproved:
		return "Fix approved: " + fixSummary
	case bus.FixRejected:
		return "Fix rejected: " + fixSummary
	case bus.FixApplied:
		return "Fix applied: " + fixSummary
	case bus.FixFailed:
		return "Fix failed: " + fixSummary
	case bus.FixSkipped:
		return "Fix skipped: " + fixSummary
	case bus.FixRolledBack:
		return "Fix rolled back: " + fixSummary
	}
	return "denyfix: " + what
}

func emoji(dt bus.DetailType) string {
	switch dt {
	case bus.DenialDiagnosed:
		return ":no_entry:"
	case bus.FixProposed:
		return ":wrench:"
	case bus.FixApproved, bus.FixApplied:
		return ":white_check_mark:"
	case bus.FixFailed:
		return ":x:"
	case bus.FixRejected, bus.FixSkipped:
		return ":no_entry_sign:"
	case bus.FixRolledBack:
		return ":rewind:"
	}
	return ":information_source:"
}

// description is the body; md selects Slack markdown (bold labels, code
// spans) over plain text.
func description(dt bus.DetailType, d bus.Detail, exp denial.Explanation, md bool) string {
	label := func(s string) string {
		if md {
			return "*" + s + ":* "
		}
		return s + ": "
	}
	code := func(s string) string {
		if md && s != "" && s != "-" {
			return "`" + s + "`"
		}
		return s
	}
	var b strings.Builder
	if exp.Summary != "" {
		b.WriteString(exp.Summary + "\n")
	}
	fmt.Fprintf(&b, "%s%s\n", label("Principal"), code(orDash(d.Principal)))
	fmt.Fprintf(&b, "%s%s\n", label("Action"), code(orDash(d.Action)))
	fmt.Fprintf(&b, "%s%s\n", label("Resource"), code(orDash(d.Resource)))
	if exp.PolicyType != denial.PolicyUnknown || exp.DenyKind != denial.DenyUnknown {
		fmt.Fprintf(&b, "%s%s (%s deny)\n", label("Policy"), exp.PolicyType, exp.DenyKind)
	}
	if exp.PolicyARN != nil {
		fmt.Fprintf(&b, "%s%s\n", label("Policy ARN"), code(*exp.PolicyARN))
	}
	fmt.Fprintf(&b, "%s%s\n", label("Cause"), d.Cause)
	fmt.Fprintf(&b, "%s%s, seen %d time(s)\n", label("Account"), orDash(d.Account), d.Count)
	if p := d.Proposal; p != nil {
		fmt.Fprintf(&b, "%s%s (mode %s, state %s)\n", label("Fix"), p.Fix.Summary, p.Mode, p.State)
		if p.Fix.Command != "" {
			fmt.Fprintf(&b, "%s%s\n", label("Command"), code(p.Fix.Command))
		}
		if p.Error != "" {
			fmt.Fprintf(&b, "%s%s\n", label("Error"), p.Error)
		}
		if p.Reason != "" {
			fmt.Fprintf(&b, "%s%s\n", label("Reason"), p.Reason)
		}
	}
	if d.Actor != "" && dt != bus.DenialDiagnosed {
		fmt.Fprintf(&b, "%s%s\n", label("By"), d.Actor)
	}
	fmt.Fprintf(&b, "%s%s", label("Finding"), code(d.Fingerprint))
	return b.String()
}

func nextSteps(dt bus.DetailType, d bus.Detail, exp denial.Explanation) []string {
	switch dt {
	case bus.DenialDiagnosed:
		return exp.NextSteps
	case bus.FixProposed:
		if d.Proposal != nil && d.Proposal.Mode.String() == "auto" {
			return []string{"denyfix applies this fix automatically; watch this thread for the result."}
		}
		return []string{
			fmt.Sprintf("Review it: denyfix proposals show %s", d.Fingerprint),
			fmt.Sprintf("Approve: denyfix approve %s (a SigV4-signed call to the approve URL; approvers only).", d.Fingerprint),
			fmt.Sprintf(`Reject: denyfix reject %s --reason "..."`, d.Fingerprint),
		}
	case bus.FixApplied:
		return []string{fmt.Sprintf(`Roll back if needed: denyfix rollback %s --reason "..."`, d.Fingerprint)}
	case bus.FixFailed, bus.FixSkipped:
		return exp.NextSteps
	}
	return nil
}

func keywords(dt bus.DetailType, d bus.Detail, exp denial.Explanation) []string {
	k := []string{"denyfix", d.Cause.String(), exp.PolicyType.String()}
	if d.Proposal != nil {
		k = append(k, d.Proposal.State.String())
	}
	return k
}

func related(d bus.Detail) []string {
	var r []string
	for _, s := range []string{d.Resource, d.Principal} {
		if s != "" {
			r = append(r, s)
		}
	}
	return r
}

func text(dt bus.DetailType, d bus.Detail, exp denial.Explanation) string {
	var b strings.Builder
	b.WriteString(headline(dt, d, exp) + "\n\n")
	b.WriteString(description(dt, d, exp, false) + "\n")
	if steps := nextSteps(dt, d, exp); len(steps) > 0 {
		b.WriteString("\nNext steps:\n")
		for i, s := range steps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
	}
	return b.String()
}

func attributes(dt bus.DetailType, d bus.Detail, exp denial.Explanation) map[string]string {
	a := map[string]string{
		"eventType":  dt.String(),
		"cause":      d.Cause.String(),
		"policyType": exp.PolicyType.String(),
	}
	if d.Account != "" {
		a["account"] = d.Account
	}
	if d.Proposal != nil && d.Proposal.State != finding.StateNone {
		a["proposalState"] = d.Proposal.State.String()
	}
	return a
}

// subject makes a valid SNS Subject: printable ASCII, one line, ≤ 100
// characters.
func subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	out := b.String()
	if len(out) > maxSubject {
		out = out[:maxSubject-3] + "..."
	}
	return out
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
