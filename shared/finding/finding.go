// Package finding stores denyfix's findings and their proposals in DynamoDB:
// one item per finding, keyed by a fingerprint of what was denied to whom and
// why. It counts occurrences for storm control and moves each proposal
// through its states with conditional writes only, so duplicate events,
// retries and simultaneous approvals change a resource at most once.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/denyfix/denyfix/shared/denial"
	"github.com/denyfix/denyfix/shared/fix"
	"github.com/denyfix/denyfix/shared/settings"
)

// State is where a proposal stands. The zero value, StateNone, means the
// finding has no proposal.
type State int

// The proposal states: proposed → approved → applying → applied | failed |
// skipped, or proposed → rejected | expired; applied → rolling_back →
// rolled_back | applied. applying and rolling_back are claims: whoever moved
// the proposal there is the only one allowed to touch the resource.
const (
	StateNone State = iota
	StateProposed
	StateApproved
	StateApplying
	StateApplied
	StateFailed
	StateSkipped
	StateRejected
	StateExpired
	StateRollingBack
	StateRolledBack
)

var stateNames = [...]string{
	StateNone:        "none",
	StateProposed:    "proposed",
	StateApproved:    "approved",
	StateApplying:    "applying",
	StateApplied:     "applied",
	StateFailed:      "failed",
	StateSkipped:     "skipped",
	StateRejected:    "rejected",
	StateExpired:     "expired",
	StateRollingBack: "rolling_back",
	StateRolledBack:  "rolled_back",
}

// String returns the state's name.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return stateNames[StateNone]
	}
	return stateNames[s]
}

// MarshalText encodes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state name; unknown names are an error.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown proposal state %q", b)
}

// Errors a transition reports; callers test them with errors.Is.
var (
	// ErrNotFound: no such finding, or it has no proposal.
	ErrNotFound = errors.New("finding not found")
	// ErrConflict: the proposal is not in the state the transition starts
	// from (someone else moved it first).
	ErrConflict = errors.New("proposal state conflict")
	// ErrExpired: the proposal passed its deadline before it was decided.
	ErrExpired = errors.New("proposal expired")
)

// Key identifies a finding: the same principal denied the same action on
// the same resource for the same cause is one finding, however often.
type Key struct {
	Account   string
	Principal string
	Action    string
	Resource  string
	Cause     denial.Cause
}

// Fingerprint is the finding's identifier: a hash of its key, stable across
// deployments so operators can quote it.
func (k Key) Fingerprint() string {
	h := sha256.New()
	for _, f := range []string{k.Account, k.Principal, k.Action, k.Resource, k.Cause.String()} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Finding is one stored finding. It is also the detail of every event
// denyfix puts on its bus.
type Finding struct {
	Fingerprint string       `json:"fingerprint"`
	Account     string       `json:"account"`
	Principal   string       `json:"principal"`
	Action      string       `json:"action"`
	Resource    string       `json:"resource"`
	Cause       denial.Cause `json:"cause"`
	Count       int64        `json:"count"`
	FirstSeen   time.Time    `json:"firstSeen"`
	LastSeen    time.Time    `json:"lastSeen"`
	// Explanation is the latest explanation of the denial as JSON: the
	// DESIGN.md Explanation object, with evidence and fix when probed.
	Explanation json.RawMessage `json:"explanation,omitempty"`
	Proposal    *Proposal       `json:"proposal,omitempty"`
	// Version increases with every write; it orders events about one finding.
	Version int64 `json:"version"`
}

// Proposal is a proposed fix and where it stands.
type Proposal struct {
	Fix   fix.Proposal  `json:"fix"`
	Mode  settings.Mode `json:"mode"`
	State State         `json:"state"`
	// Deadline is when an undecided proposal expires.
	Deadline time.Time `json:"deadline"`
	// Actor is the ARN (or "denyfix" for automatic steps) behind the last
	// transition, Reason what they said.
	Actor     string    `json:"actor,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Change is the before and after state of an applied fix.
	Change *fix.Change `json:"change,omitempty"`
	// Error says why applying or rolling back failed or was skipped.
	Error string `json:"error,omitempty"`
	// EventID is the event whose occurrence opened the proposal.
	EventID string `json:"eventId,omitempty"`
}
