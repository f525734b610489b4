package webrtc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/webrtc/plane"
)

// peerSession is one WHIP or WHEP session: one PeerConnection and the hub
// publication or subscription behind it. close may be called from any
// goroutine, once or many times.
type peerSession struct {
	s       *Server
	id      string // unguessable: the session URL's last segment
	ip, key string
	publish bool
	log     *slog.Logger
	codec   rtpCodec // the session's one audio codec
	events  bool     // telephone-event negotiated at the codec's clock

	pc    *webrtc.PeerConnection // the pion engine's
	stats *pionStats             // the pion engine's figures, for the record
	ls    *plane.Session         // the lite engine's
	once  sync.Once
	done  chan struct{} // closed by close: the media goroutines end
	// created is when the session was admitted; connected that its ICE
	// and DTLS completed (only such sessions leave a record: an offer
	// nobody followed up is not worth a row).
	created   time.Time
	connected atomic.Bool
	stop      func() // releases the hub side (set by startWHIP/startWHEP)
}

// start makes the PeerConnection for codec c (and telephone-event when
// events), wires the media and answers offer.
func (p *peerSession) start(ctx context.Context, offer string, c rtpCodec, events bool) (string, error) {
	p.codec, p.events = c, events
	if p.s.plane != nil {
		ans, err := p.startPlane(offer, c, events)
		if err != nil {
			return "", err
		}
		p.log.Info("webrtc session", "addr", p.ip, "codec", c.id, "dtmf", events, "engine", EngineLite)
		return ans, nil
	}
	api, err := sessionAPI(p.s.se, c, events)
	if err != nil {
		return "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: p.s.srflx})
	if err != nil {
		return "", fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	p.stats = newPionStats(c.cap.ClockRate)
	p.pc = pc
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.log.Debug("connection state", "state", st)
		switch st {
		case webrtc.PeerConnectionStateConnected:
			p.connected.Store(true)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			go p.close("connection " + st.String())
		}
	})
	if p.publish {
		err = p.startWHIP()
	} else {
		err = p.startWHEP()
	}
	if err != nil {
		return "", err
	}
	ans, srflx, err := answer(ctx, pc, offer, p.s.o.STUNGatherTimeout)
	if err != nil {
		return "", err
	}
	if len(p.s.srflx) > 0 && !srflx {
		p.s.Stats.NoSrflx.Add(1)
		p.log.Debug("answer without srflx candidates: no STUN server answered in time", "wait", p.s.o.STUNGatherTimeout)
	}
	go p.watchConnect()
	p.log.Info("webrtc session", "addr", p.ip, "codec", c.id, "dtmf", events, "srflx", srflx)
	return ans, nil
}

// watchConnect ends the session if ICE has not connected within the
// connect timeout (an offer nobody follows up must not hold a slot).
func (p *peerSession) watchConnect() {
	t := time.NewTimer(p.s.o.ConnectTimeout)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
				p.close("ICE did not connect in time")
			}
			return
		}
	}
}

// endWith closes the session when ends is closed: the right that admitted
// it ended (Ender).
func (p *peerSession) endWith(ends <-chan struct{}) {
	select {
	case <-ends:
		p.close("access ended")
	case <-p.done:
	}
}

// close ends the session: the hub side first (no more writes), then the
// PeerConnection, then the registry slot.
func (p *peerSession) close(why string) {
	p.once.Do(func() {
		close(p.done)
		if p.stop != nil {
			p.stop()
		}
		if p.pc != nil {
			if err := p.pc.Close(); err != nil {
				p.log.Debug("close peer connection", "err", err)
			}
		}
		log := p.log
		var reports *plane.Reports
		if p.ls != nil {
			p.ls.Close()
			// What the RTCP reports said both ways (lite engine).
			r := p.ls.Reports()
			reports = &r
		} else if p.stats != nil {
			// The pion engine's: its track reader's and RTCP reader's.
			r := p.stats.reports()
			reports = &r
		}
		if r := reports; r != nil {
			log = log.With("sent", r.Sent, "received", r.Received, "lost", r.Lost, "jitter", r.Jitter,
				"peer_lost", r.PeerLost, "peer_jitter", r.PeerJitter, "rtt", r.RTT)
		}
		p.s.forget(p)
		log.Info("webrtc session closed", "why", why)
		p.record(why, reports)
	})
}
