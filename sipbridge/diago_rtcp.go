package sipbridge

import (
	"sync"
	"sync/atomic"
	"time"

	dmedia "github.com/emiago/diago/media"
	"github.com/pion/rtcp"

	"github.com/flashvox/flashvox/internal/rtcpblocks"
)

// peerRTCP takes the peer's RTCP reports from diago's RTCP reader of the
// dialog's current RTP session (a re-INVITE may bring a new one: each is
// hooked when the channel first reads or writes through it).
type peerRTCP struct {
	mu     sync.Mutex
	fn     func(peerReport)
	hooked atomic.Pointer[dmedia.RTPSession]
}

// OnPeerReport implements channel.
func (c *diagoChannel) OnPeerReport(fn func(peerReport)) {
	c.rtcp.mu.Lock()
	c.rtcp.fn = fn
	c.rtcp.mu.Unlock()
	if rs := c.dm.RTPSession(); rs != nil {
		c.hookRTCP(rs)
	}
}

// hookRTCP has rs's RTCP reader hand its reports to the channel, once per
// session; a cheap check on every packet.
func (c *diagoChannel) hookRTCP(rs *dmedia.RTPSession) {
	old := c.rtcp.hooked.Load()
	if old == rs || !c.rtcp.hooked.CompareAndSwap(old, rs) {
		return
	}
	rs.OnReadRTCP(func(pkt rtcp.Packet, _ dmedia.RTPReadStats) { c.rtcp.read(rs, pkt) })
}

// read passes the report blocks of pkt about what rs sends to fn. diago
// calls it without its RTCP lock held, so the session's stats can be read.
func (p *peerRTCP) read(rs *dmedia.RTPSession, pkt rtcp.Packet) {
	p.mu.Lock()
	fn := p.fn
	p.mu.Unlock()
	if fn == nil {
		return
	}
	ws := rs.WriteStats()
	if ws.SSRC == 0 {
		return // nothing sent yet: no report is about us
	}
	blocks := rtcpblocks.About(pkt, ws.SSRC)
	if len(blocks) == 0 {
		return
	}
	now := time.Now()
	for _, b := range blocks {
		fn(peerReport{fraction: b.FractionLost, lost: int64(rtcpblocks.CumulativeLost(b)), sent: ws.PacketsCount, rtt: rtcpblocks.RoundTrip(now, b)})
	}
}
