package denial

import (
	"fmt"
	"strings"
)

// FormatText renders an explanation for people: a headline, the facts that
// are known, the summary and numbered next steps. It is short enough to
// scan in a terminal and plain enough to paste into a ticket.
func FormatText(e *Explanation) string {
	var b strings.Builder
	headline := deref(e.ErrorCode, "Access denied")
	if e.Action != nil {
		headline += "  " + *e.Action
	}
	fmt.Fprintf(&b, "%s  [%s]\n", headline, e.Cause)
	row := func(label string, v *string) {
		if v != nil {
			fmt.Fprintf(&b, "  %-11s %s\n", label, *v)
		}
	}
	row("principal", e.Principal)
	row("resource", e.Resource)
	if e.PolicyType != PolicyUnknown || e.DenyKind != DenyUnknown {
		policy := e.DenyKind.String() + " deny in " + e.PolicyType.Phrase()
		if e.DenyKind == DenyUnknown {
			policy = e.PolicyType.Phrase()
		}
		if e.Via != nil {
			policy += ", through a " + e.Via.Phrase()
		}
		row("policy", &policy)
	}
	row("policy arn", e.PolicyARN)
	if e.Account != nil || e.Region != nil {
		where := strings.TrimSpace(deref(e.Account, "") + " " + deref(e.Region, ""))
		row("where", &where)
	}
	row("event", e.EventID)
	row("time", e.EventTime)
	fmt.Fprintf(&b, "\n  %s\n", e.Summary)
	if len(e.NextSteps) > 0 {
		b.WriteString("\n  Next steps:\n")
		for i, s := range e.NextSteps {
			fmt.Fprintf(&b, "  %2d. %s\n", i+1, s)
		}
	}
	return b.String()
}
