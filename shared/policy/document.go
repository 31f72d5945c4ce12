// Package policy reads IAM and resource policy documents and decides, per
// statement, whether it applies to one request: actions, resources,
// principals and conditions, evaluated against a request context built from a
// CloudTrail record. It answers "matches", "does not match" or "not
// evaluable" (naming the key it could not know), never a guess.
//
// The package is pure: no SDK, no context, no I/O.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Document is a policy document: an identity policy, a bucket, access point,
// key or VPC endpoint policy.
type Document struct {
	Version    string      `json:"Version,omitempty"`
	ID         string      `json:"Id,omitempty"`
	Statements []Statement `json:"Statement"`
}

// Statement is one statement. Absent elements are nil; Principal and
// NotPrincipal are nil in identity policies.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       List       `json:"Action,omitempty"`
	NotAction    List       `json:"NotAction,omitempty"`
	Resource     List       `json:"Resource,omitempty"`
	NotResource  List       `json:"NotResource,omitempty"`
	// Condition maps operator → key → values, as written.
	Condition map[string]map[string]List `json:"Condition,omitempty"`
}

// IsDeny reports whether the statement denies. Effect is case-sensitive in
// AWS, but a policy AWS accepted only ever has "Allow" or "Deny".
func (s Statement) IsDeny() bool { return s.Effect == "Deny" }

// Name identifies the statement for people: its Sid, else its position.
func (s Statement) Name(index int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return "statement #" + strconv.Itoa(index+1)
}

// List is a policy element that AWS accepts as one value or a list of them.
// Booleans and numbers (condition values such as `false` or `3600`) are kept
// as their JSON text.
type List []string

// UnmarshalJSON accepts a string, bool, number or a list of them.
func (l *List) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(List, 0, len(raw))
		for _, r := range raw {
			s, err := scalar(r)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	s, err := scalar(b)
	if err != nil {
		return err
	}
	*l = List{s}
	return nil
}

func scalar(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", fmt.Errorf("empty policy value")
	}
	switch b[0] {
	case '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(b), nil
	}
	return "", fmt.Errorf("policy value %s is not a string, bool or number", b)
}

// Principal is a Principal or NotPrincipal element: "*" or a map of
// principal types ("AWS", "Service", "Federated", "CanonicalUser") to values.
type Principal struct {
	// Any is true for `"Principal": "*"`.
	Any bool
	// ByType maps each principal type to its values, as written.
	ByType map[string]List
}

// UnmarshalJSON accepts "*" or an object of lists.
func (p *Principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "*" {
			return fmt.Errorf("principal %q: a bare string principal must be \"*\"", s)
		}
		p.Any = true
		return nil
	}
	return json.Unmarshal(b, &p.ByType)
}

// MarshalJSON writes the element back in the form it was read.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	return json.Marshal(p.ByType)
}

// Values returns every principal value of every type, sorted, for messages.
func (p Principal) Values() []string {
	var out []string
	for _, vs := range p.ByType {
		out = append(out, vs...)
	}
	sort.Strings(out)
	return out
}

// Parse reads a policy document. Statement may be one object or a list.
func Parse(data []byte) (Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Document{}, fmt.Errorf("policy is not valid JSON: %w", err)
	}
	doc := Document{Version: raw.Version, ID: raw.ID}
	st := bytes.TrimSpace(raw.Statement)
	if len(st) == 0 {
		return Document{}, fmt.Errorf("policy has no Statement")
	}
	if st[0] == '{' {
		var s Statement
		if err := json.Unmarshal(st, &s); err != nil {
			return Document{}, fmt.Errorf("policy statement: %w", err)
		}
		doc.Statements = []Statement{s}
		return doc, nil
	}
	if err := json.Unmarshal(st, &doc.Statements); err != nil {
		return Document{}, fmt.Errorf("policy statements: %w", err)
	}
	return doc, nil
}
