package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/denyfix/denyfix/shared/bus"
	"github.com/denyfix/denyfix/shared/notify"
)

// NotifyHandler sends every denyfix bus event to the SNS topic.
type NotifyHandler struct {
	SNS Notifier
	Log *slog.Logger
}

// Handle renders and publishes one denyfix bus event.
func (n *NotifyHandler) Handle(ctx context.Context, raw json.RawMessage) error {
	line := newLine(n.Log, "notify")
	return line.run(ctx, func() error {
		ev, dt, d, err := bus.DecodeEvent(raw)
		line.add("eventId", ev.ID)
		line.add("detailType", ev.DetailType)
		if err != nil {
			line.outcome, line.err = OutcomeDropped, err
			return nil
		}
		line.add("fingerprint", d.Fingerprint)
		line.add("cause", d.Cause.String())
		msg, err := notify.Render(dt, ev.ID, d)
		if err != nil {
			line.outcome, line.err = OutcomeDropped, err
			return nil
		}
		id, err := n.SNS.Publish(ctx, msg)
		if err != nil {
			return err
		}
		line.add("messageId", id)
		line.outcome = OutcomeNotified
		return nil
	})
}
