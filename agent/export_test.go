package agent

import (
	"context"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// The external tests send single notifications, which only a Notifier
// does otherwise, through these.

var ErrNotConnected = errNotConnected

func (a *Agent) Notify(ctx context.Context, trap agentx.OID, vbs []agentx.VarBind) error {
	return a.sendNotify(ctx, "", trap, vbs)
}

// StaticView is a ViewSource that always returns the same view.
type StaticView struct{ V View }

// CurrentView returns s.V.
func (s StaticView) CurrentView() View { return s.V }

// Connected reports whether a session with the master is open.
func (a *Agent) Connected() bool { return a.session() != nil }
