package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/finding"
	"github.com/denyfix/denyfix/shared/fix"
)

// memStore is an in-memory Store with the real store's state rules.
type memStore struct {
	mu       sync.Mutex
	findings map[string]finding.Finding
	err      error // returned by every call when set
	// moveErr, when set, is returned by the Move from moveErrFrom to
	// moveErrTo (one failing transition, e.g. DynamoDB throttling it).
	moveErr                error
	moveErrFrom, moveErrTo finding.State
	recorded               []finding.Occurrence
}

func newMemStore() *memStore { return &memStore{findings: map[string]finding.Finding{}} }

func (m *memStore) Record(_ context.Context, o finding.Occurrence) (finding.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return finding.Outcome{}, m.err
	}
	m.recorded = append(m.recorded, o)
	fp := o.Key.Fingerprint()
	f := m.findings[fp]
	f.Fingerprint, f.Account, f.Principal, f.Action, f.Resource, f.Cause = fp, o.Key.Account, o.Key.Principal, o.Key.Action, o.Key.Resource, o.Key.Cause
	f.Count++
	f.Explanation = o.Explanation
	out := finding.Outcome{Notify: f.Count == 1 || f.Count == 10}
	if o.Fix != nil && o.Mode.String() != "notify" && f.Proposal == nil {
		f.Proposal = &finding.Proposal{Fix: *o.Fix, Mode: o.Mode, State: finding.StateProposed}
		out.Proposed = true
	}
	m.findings[fp] = f
	out.Finding = f
	return out, nil
}

func (m *memStore) Get(_ context.Context, fp string) (finding.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return finding.Finding{}, m.err
	}
	f, ok := m.findings[fp]
	if !ok {
		return finding.Finding{}, fmt.Errorf("%w: %s", finding.ErrNotFound, fp)
	}
	return f, nil
}

func (m *memStore) Move(_ context.Context, fp string, t finding.Transition) (finding.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return finding.Finding{}, m.err
	}
	if m.moveErr != nil && t.From == m.moveErrFrom && t.To == m.moveErrTo {
		return finding.Finding{}, m.moveErr
	}
	f, ok := m.findings[fp]
	if !ok || f.Proposal == nil {
		return finding.Finding{}, fmt.Errorf("%w: %s", finding.ErrNotFound, fp)
	}
	if f.Proposal.State != t.From {
		return finding.Finding{}, fmt.Errorf("%w: %s is %s", finding.ErrConflict, fp, f.Proposal.State)
	}
	p := *f.Proposal
	p.State, p.Actor, p.Reason = t.To, t.Actor, t.Reason
	if t.Change != nil {
		p.Change = t.Change
	}
	if t.Error != "" {
		p.Error = t.Error
	}
	f.Proposal = &p
	f.Version++
	m.findings[fp] = f
	return f, nil
}

// put stores a finding with a proposal in the given state.
func (m *memStore) put(state finding.State, mode string) finding.Finding {
	f := finding.Finding{Fingerprint: "fp-1", Account: "111122223333", Action: "s3:GetObject", Count: 1}
	p := &finding.Proposal{Fix: fix.Proposal{Kind: fix.KindS3EnforceBucketOwner, Account: "111122223333", Bucket: "amzn-s3-demo-bucket"}, State: state}
	_ = p.Mode.UnmarshalText([]byte(mode))
	f.Proposal = p
	m.findings[f.Fingerprint] = f
	return f
}

type published struct {
	dt    bus.DetailType
	f     finding.Finding
	actor string
}

type fakeBus struct {
	mu     sync.Mutex
	events []published
	err    error
}

func (b *fakeBus) Publish(_ context.Context, dt bus.DetailType, f finding.Finding, actor string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.events = append(b.events, published{dt, f, actor})
	return nil
}

func (b *fakeBus) types() []string {
	var out []string
	for _, e := range b.events {
		out = append(out, e.dt.String())
	}
	return out
}

type fakeFixer struct {
	applyErr    error
	rollbackErr error
	applied     int
	written     int
	rolledBack  int
}

// Apply behaves as fix.Applier does: refusals and failed preconditions
// change nothing; otherwise the before state is saved, then written.
func (f *fakeFixer) Apply(ctx context.Context, _ fix.Proposal, save fix.SaveFunc) (*fix.Change, error) {
	f.applied++
	if errors.Is(f.applyErr, fix.ErrRefused) || errors.Is(f.applyErr, fix.ErrPrecondition) {
		return nil, f.applyErr
	}
	before := fix.Change{Kind: fix.KindS3EnforceBucketOwner, Before: fix.Snapshot{Ownership: "ObjectWriter"}}
	if save != nil {
		if err := save(ctx, before); err != nil {
			return nil, err
		}
	}
	f.written++
	if f.applyErr != nil {
		return nil, f.applyErr
	}
	return &fix.Change{Kind: fix.KindS3EnforceBucketOwner, Before: before.Before, After: fix.Snapshot{Ownership: "BucketOwnerEnforced"}}, nil
}

func (f *fakeFixer) Rollback(context.Context, fix.Proposal, fix.Change) error {
	f.rolledBack++
	return f.rollbackErr
}

// logSink captures a handler's JSON log lines.
type logSink struct{ buf bytes.Buffer }

func (s *logSink) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(&s.buf, nil)) }

// only returns the single line logged, failing unless there is exactly one.
func (s *logSink) only(t *testing.T) map[string]any {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(s.buf.Bytes()), []byte("\n"))
	if len(lines) != 1 || len(lines[0]) == 0 {
		t.Fatalf("logged %d lines; want exactly 1:\n%s", len(lines), s.buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal(lines[0], &m); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	return m
}

// readTestdata reads one of the project's sample events, the same files the
// template's rules are proved against.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
