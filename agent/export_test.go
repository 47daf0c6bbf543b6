package agent

import (
	"context"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// The external tests reach the notification path, which nothing else
// uses yet, through these.

var ErrNotConnected = errNotConnected

func (a *Agent) Notify(ctx context.Context, trap agentx.OID, vbs []agentx.VarBind) error {
	return a.sendNotify(ctx, trap, vbs)
}
