package agent

import "github.com/lvs-agentx/lvs-agentx/agent/agentx"

// View is the data a session serves: an immutable, lexicographically sorted
// set of variables. Implementations must be safe for concurrent use and
// answer both methods in O(log n); the mib package builds one per IPVS
// snapshot.
type View interface {
	// Get returns the variable named exactly oid. When there is none it
	// returns a VarBind named oid whose Type is NoSuchObject (oid names no
	// object type the view knows) or NoSuchInstance (the object type exists
	// but this instance does not), as RFC 2741 section 7.2.3.1 asks.
	Get(oid agentx.OID) agentx.VarBind

	// Next returns the first variable whose name is greater than from, or
	// equal to it when include is set, and less than to (an empty to means
	// no upper bound). ok is false when there is none. A name the view has
	// to build it appends to dst[:0], so a caller that hands back the same
	// storage request after request allocates nothing; dst must not share
	// storage with from or to.
	Next(dst, from agentx.OID, include bool, to agentx.OID) (vb agentx.VarBind, ok bool)
}

// ViewSource hands out the view to answer one request with. A session calls
// CurrentView once per request PDU, so all varbinds of a response come from
// one view and are never torn. Implementations must not block on I/O: a
// source that refreshes (the mib package's, from netlink) keeps serving the
// view it has while a refresh runs in the background.
type ViewSource interface {
	CurrentView() View
}
