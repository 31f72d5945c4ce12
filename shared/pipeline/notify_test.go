package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/notify"
)

type fakeSNS struct {
	sent []notify.Notification
	err  error
}

func (f *fakeSNS) Publish(_ context.Context, n notify.Notification) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.sent = append(f.sent, n)
	return "msg-1", nil
}

func TestNotifyHandler(t *testing.T) {
	tests := []struct {
		name        string
		raw         json.RawMessage
		snsErr      error
		wantOutcome Outcome
		wantErr     bool
		wantSent    int
	}{
		{"bus event", busEvent(bus.FixApplied, "fp-1"), nil, OutcomeNotified, false, 1},
		{"not denyfix", json.RawMessage(`{"source":"aws.s3","detail-type":"Fix Applied","detail":{"fingerprint":"x"}}`), nil, OutcomeDropped, false, 0},
		{"garbage", json.RawMessage(`[1,2`), nil, OutcomeDropped, false, 0},
		{"SNS down", busEvent(bus.FixApplied, "fp-1"), errors.New("Throttling"), OutcomeRetry, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sns, logs := &fakeSNS{err: tc.snsErr}, &logSink{}
			h := &NotifyHandler{SNS: sns, Log: logs.logger()}
			err := h.Handle(context.Background(), tc.raw)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Handle error = %v; want error %v", err, tc.wantErr)
			}
			if got := logs.only(t)["outcome"]; got != string(tc.wantOutcome) {
				t.Errorf("outcome = %v; want %s", got, tc.wantOutcome)
			}
			if len(sns.sent) != tc.wantSent {
				t.Errorf("sent %d; want %d", len(sns.sent), tc.wantSent)
			}
		})
	}
}

// TestNotifySampleBusEvents renders every sample bus event of events/.
func TestNotifySampleBusEvents(t *testing.T) {
	files, _ := filepath.Glob("../../events/bus-*.json")
	if len(files) == 0 {
		t.Skip("no events/bus-*.json samples in this checkout")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sns, logs := &fakeSNS{}, &logSink{}
			if err := (&NotifyHandler{SNS: sns, Log: logs.logger()}).Handle(context.Background(), raw); err != nil {
				t.Fatal(err)
			}
			if got := logs.only(t)["outcome"]; got != string(OutcomeNotified) || len(sns.sent) != 1 {
				t.Errorf("outcome %v, %d sent; want notified once", got, len(sns.sent))
			}
		})
	}
}
