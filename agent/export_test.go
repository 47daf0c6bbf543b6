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
