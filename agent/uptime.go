package agent

import (
	"math"
	"sync"
	"time"
)

// Uptime is the master's sysUpTime as the subagent knows it, for the
// sysUpTime.0 of notifications and for TimeStamp objects: managers compare
// both with the sysUpTime.0 they read from the master, not with the
// subagent's own age. The master tells its sysUpTime in every response
// (RFC 2741 section 6.2.16); the agent takes it from the response to its
// Open, so the clock follows a restarted master. Until the first session
// opens it counts from NewUptime. Uptime is safe for concurrent use.
type Uptime struct {
	mu    sync.Mutex
	ticks uint32    // the master's sysUpTime at at
	at    time.Time // with the monotonic clock reading
}

// NewUptime returns an Uptime that counts from now until a master says
// otherwise.
func NewUptime() *Uptime { return &Uptime{at: time.Now()} }

// At returns the sysUpTime at t, in hundredths of a second: 0 for a
// moment before the master started (as RFC 2579 asks of a TimeStamp), and
// wrapping at 2^32 as TimeTicks do.
func (u *Uptime) At(t time.Time) uint32 {
	u.mu.Lock()
	ticks, at := u.ticks, u.at
	u.mu.Unlock()
	cs := int64(ticks) + int64(t.Sub(at)/(10*time.Millisecond))
	if cs < 0 {
		return 0
	}
	return uint32(cs % (math.MaxUint32 + 1))
}

// set records that the master's sysUpTime was ticks at time at.
func (u *Uptime) set(ticks uint32, at time.Time) {
	u.mu.Lock()
	u.ticks, u.at = ticks, at
	u.mu.Unlock()
}
