package sipbridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	dmedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/connlimit"
)

// The codecs offered and accepted, in preference order (RFC 3551 static
// payload types; telephone-event at 101 as most phones use).
var offerCodecs = []dmedia.Codec{
	dmedia.CodecAudioUlaw,
	dmedia.CodecAudioAlaw,
	{Name: "G722", PayloadType: 9, SampleRate: 8000, SampleDur: 20 * time.Millisecond, NumChannels: 1},
	dmedia.CodecTelephoneEvent8000,
}

// diagoOptions configure the diago stack.
type diagoOptions struct {
	Listen        string // host:port; port 0 picks one free for UDP and TCP
	PublicAddress string
	// TLSListen, when set, adds a SIP-over-TLS listener with TLSConfig
	// (its certificate); port 0 picks a free one.
	TLSListen string
	TLSConfig *tls.Config
	// TLSClientConfig verifies the peers dialed over TLS (nil: system roots).
	TLSClientConfig *tls.Config
	Logger          *slog.Logger
	// OnOffer handles an inbound INVITE; the dialog ends when it returns.
	OnOffer func(offer)
	// OnRegister answers a REGISTER (nil: 405).
	OnRegister func(registration)
	// Stream limits the TCP and TLS connections accepted (diago_stream.go).
	Stream connlimit.Options
	// Stats count what the libraries' logs report (liblog.go).
	Stats *Stats
}

// diagoStack is the stack on emiago/diago and sipgo.
type diagoStack struct {
	ua      *sipgo.UserAgent
	dg      *diago.Diago
	addr    string
	tlsAddr string // "" without a TLS listener
	public  string // PublicAddress: the host in our Contact behind NAT
	cancel  context.CancelFunc
	log     *slog.Logger
	stats   *Stats
	// closeGuards closes the guarded TCP/TLS listeners.
	closeGuards func()
}

// newDiagoStack listens on o.Listen (UDP and TCP) and serves until Close.
func newDiagoStack(o diagoOptions) (*diagoStack, error) {
	host, port, err := listenHostPort(o.Listen)
	if err != nil {
		return nil, err
	}
	// sipgo's and diago's loggers: process-wide, set before the user
	// agent (its transport layer keeps the default logger it finds).
	lh := newLibHandler(o.Logger, o.Stats)
	useLibDefaults(lh)
	o.Logger = slog.New(lh)
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent("flashvox"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(filterUnsafeSDP(o.Stats)))}
	if o.TLSClientConfig != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(o.TLSClientConfig))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(o.Logger))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	if o.OnRegister != nil {
		srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
			o.OnRegister(&diagoRegistration{req: req, tx: tx})
		})
	}
	opts := []diago.DiagoOption{
		diago.WithLogger(o.Logger),
		diago.WithServer(srv),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: offerCodecs}),
	}
	topts, guards, tlsAddr, err := diagoTransports(o, host, port)
	if err != nil {
		ua.Close()
		return nil, err
	}
	opts = append(opts, topts...)
	closeGuards := func() {
		for _, g := range guards {
			g.ln.Close()
		}
	}
	dg := diago.NewDiago(ua, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	s := &diagoStack{ua: ua, dg: dg, addr: net.JoinHostPort(host, strconv.Itoa(port)), tlsAddr: tlsAddr,
		public: o.PublicAddress, cancel: cancel, log: o.Logger, stats: o.Stats, closeGuards: closeGuards}
	err = dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		o.OnOffer(&diagoOffer{d: d, s: s})
	})
	if err != nil {
		cancel()
		closeGuards()
		ua.Close()
		return nil, fmt.Errorf("sip: listen %s: %w", s.addr, err)
	}
	for _, g := range guards {
		go g.serve(srv)
	}
	if !udpServing(ua, s.addr, 2*time.Second) {
		s.log.Warn("sip: the UDP listener is not in sipgo's pool yet; requests sent from it may fail at first", "addr", s.addr)
	}
	return s, nil
}

// udpServing waits, at most within, until sipgo serves the UDP listener at
// addr. diago returns once the socket is bound, but sipgo puts it in its
// connection pool only after that, on the listener's goroutine; a request
// sent from our address before then (WithClientConnectionAddr: a trunk's
// REGISTER, a dial-out, right at start) made sipgo bind that address a
// second time, which fails: the REGISTER came again 30 s later, the
// dial-out not at all (sipp tests in CI got no request, under load).
func udpServing(ua *sipgo.UserAgent, addr string, within time.Duration) bool {
	pool := ua.TransportLayer().Pool("udp")
	deadline := time.Now().Add(within)
	for pool != nil {
		if pool.Get(addr) != nil { // a reference more on the listener, which references do not close
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond) // a few at most: the listener's goroutine is runnable
	}
	return false
}

// diagoTransports are the UDP transport and the guarded TCP (and TLS)
// listeners; on error nothing is left open.
func diagoTransports(o diagoOptions, host string, port int) (opts []diago.DiagoOption, guards []*streamGuard, tlsAddr string, err error) {
	t := diago.Transport{Transport: "udp", BindHost: host, BindPort: port}
	if o.PublicAddress != "" {
		t.ExternalHost, t.ExternalPort = o.PublicAddress, port
		if ip := net.ParseIP(o.PublicAddress); ip != nil {
			t.MediaExternalIP = ip
		}
	}
	opts = append(opts, diago.WithTransport(t))
	tcp, err := guardStream("tcp", host, port, o.PublicAddress, nil, o.Stream)
	if err != nil {
		return nil, nil, "", err
	}
	guards = append(guards, tcp)
	opts = append(opts, diago.WithTransport(tcp.shade))
	if o.TLSListen == "" {
		return opts, guards, "", nil
	}
	th, tp, err := tlsListenAddr(o)
	var g *streamGuard
	if err == nil {
		g, err = guardStream("tls", th, tp, o.PublicAddress, o.TLSConfig, o.Stream)
	}
	if err != nil {
		tcp.ln.Close()
		return nil, nil, "", err
	}
	guards = append(guards, g)
	return append(opts, diago.WithTransport(g.shade)), guards, net.JoinHostPort(th, strconv.Itoa(tp)), nil
}

func (s *diagoStack) Addr() string { return s.addr }

func (s *diagoStack) TLSAddr() string { return s.tlsAddr }

func (s *diagoStack) Close() error {
	s.cancel()
	s.closeGuards()
	return s.ua.Close()
}

func (s *diagoStack) Invite(ctx context.Context, in invite) (ch channel, err error) {
	defer recoverSDP(&err)
	d, fromHost, err := s.newDialog(in)
	if err != nil {
		return nil, err
	}
	var early *diagoChannel
	var cur atomic.Pointer[diagoChannel] // re-INVITEs arrive on diago's goroutine
	mediaUpdate := func(dm *diago.DialogMedia) {
		if c := cur.Load(); c != nil {
			c.mediaUpdated(dm)
		}
	}
	opts := diago.InviteClientOptions{
		Username: in.Username,
		Password: in.Password,
		OnResponse: func(res *sip.Response) error {
			if res.IsProvisional() && res.StatusCode != sip.StatusTrying && in.OnProgress != nil {
				in.OnProgress(int(res.StatusCode))
			}
			return nil
		},
		OnMediaUpdate:    mediaUpdate,
		EarlyMediaDetect: in.OnEarlyMedia != nil,
	}
	if in.From != "" {
		opts.Headers = append(opts.Headers, &sip.FromHeader{
			// An external caller's "ext:" is escaped: ':' is not allowed
			// in a SIP user part.
			Address: sip.Uri{Scheme: "sip", User: strings.ReplaceAll(in.From, ":", "%3A"), Host: fromHost},
			Params:  sip.NewParams(),
		})
	}
	fail := func(err error) (channel, error) {
		d.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, &StatusError{Code: int(de.Res.StatusCode), Reason: de.Res.Reason}
		}
		return nil, fmt.Errorf("sip: invite: %w", err)
	}
	err = d.Invite(ctx, opts)
	if errors.Is(err, diago.ErrClientEarlyMedia) {
		// 183 with SDP: its RTP flows now; the answer follows (or not).
		if early, err = s.newChannel(&d.DialogMedia, d.Context(), d.Hangup, d.Close); err != nil {
			return fail(err)
		}
		withCallID(early, d.InviteRequest)
		cur.Store(early)
		in.OnEarlyMedia(early)
		err = d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: in.Username, Password: in.Password, OnResponse: opts.OnResponse})
	}
	if err != nil {
		return fail(err)
	}
	if err := d.Ack(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("sip: ack: %w", err)
	}
	if early != nil {
		early.mediaUpdated(&d.DialogMedia) // the 200's SDP may differ from the 183's
		return early, nil
	}
	dc, err := s.newChannel(&d.DialogMedia, d.Context(), d.Hangup, d.Close)
	if err != nil {
		_ = d.Hangup(context.Background())
		d.Close()
		return nil, err
	}
	withCallID(dc, d.InviteRequest)
	cur.Store(dc)
	return dc, nil
}

// newDialog is the outbound dialog of an invite, with our codec offer when
// it has one, and the host part of its From.
func (s *diagoStack) newDialog(in invite) (*diago.DialogClientSession, string, error) {
	if in.URI != "" && in.HostPort == "" {
		in.HostPort = s.addr
	}
	host, ps, err := net.SplitHostPort(in.HostPort)
	if err != nil {
		return nil, "", fmt.Errorf("sip: trunk address %q: %w", in.HostPort, err)
	}
	port, _ := strconv.Atoi(ps)
	to := sip.Uri{Scheme: "sip", User: in.User, Host: host, Port: port}
	fromHost := host
	if in.URI != "" {
		if err := sip.ParseUri(in.URI, &to); err != nil {
			return nil, "", fmt.Errorf("sip: contact %q: %w", in.URI, err)
		}
		fromHost, _, _ = net.SplitHostPort(s.addr)
	}
	d, err := s.dg.NewDialog(to, diago.NewDialogOptions{Transport: in.Transport})
	if err != nil {
		return nil, "", fmt.Errorf("sip: %w", err)
	}
	if in.Codecs != nil {
		// diago offers its configured codecs unless the dialog's media
		// session exists before Invite: make it with ours.
		ms, err := s.mediaSession(offerList(in.Codecs))
		if err != nil {
			d.Close()
			return nil, "", err
		}
		d.InitMediaSession(ms, nil, nil)
	}
	return d, fromHost, nil
}

// diagoChannel is an established (or early) diago dialog's media. diago
// replaces the dialog's RTP session on every media update (re-INVITE, the
// 200 after a 183), so each read and write asks the dialog for the
// current one.
type diagoChannel struct {
	dm      *diago.DialogMedia
	codec   rtpCodec
	done    <-chan struct{}
	hangup  func(context.Context) error
	close   func() error
	changed chan struct{} // one pending signal
	mu      sync.Mutex
	dir     string // guarded by mu
	callID  string
	guard   *rtpGuard // which source RTP is taken from and sent to (strictrtp.go)
	rtcp    peerRTCP  // the peer's reports about our audio (diago_rtcp.go)
}

func (s *diagoStack) newChannel(dm *diago.DialogMedia, ctx context.Context, hangup func(context.Context) error, closeFn func() error) (*diagoChannel, error) {
	rs := dm.RTPSession()
	if rs == nil {
		return nil, errors.New("sip: no RTP session after answer")
	}
	c, err := negotiated(rs.Sess)
	if err != nil {
		return nil, err
	}
	return &diagoChannel{dm: dm, codec: c, done: ctx.Done(), hangup: hangup, close: closeFn,
		changed: make(chan struct{}, 1), dir: dirSendRecv, guard: newRTPGuard(c, &s.stats.RTPWrongSource, s.log)}, nil
}

// mediaUpdated records the direction our answer to the peer's new SDP
// took. diago keeps the negotiated direction private; our own SDP, which
// carries it, is the public way to read it (generating it only raises the
// session version).
func (c *diagoChannel) mediaUpdated(dm *diago.DialogMedia) {
	ms := dm.MediaSession()
	if ms == nil {
		return
	}
	dir := sdpDirection(ms.LocalSDP())
	c.mu.Lock()
	c.dir = dir
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *diagoChannel) Direction() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dir
}

func (c *diagoChannel) Changed() <-chan struct{} { return c.changed }

// negotiated maps the session's common codecs to ours.
func negotiated(ms *dmedia.MediaSession) (rtpCodec, error) {
	var c rtpCodec
	list := ms.CommonCodecs()
	if len(list) == 0 {
		list = ms.Codecs
	}
	for _, dc := range list {
		switch strings.ToLower(dc.Name) {
		case "telephone-event":
			if !c.DTMF {
				c.DTMF, c.DTMFType = true, dc.PayloadType
			}
			continue
		}
		if c.ID != 0 {
			continue
		}
		switch strings.ToUpper(dc.Name) {
		case "PCMU":
			c.ID = codec.PCMU
		case "PCMA":
			c.ID = codec.PCMA
		case "G722":
			c.ID = codec.G722
		case "SPEEX":
			if dc.SampleRate != 16000 {
				continue // narrowband and ultra-wideband are not Flash's
			}
			c.ID = codec.Speex
		case "OPUS":
			if dc.SampleRate != 48000 {
				continue
			}
			c.ID = codec.Opus
		default:
			continue
		}
		c.PayloadType, c.ClockRate = dc.PayloadType, int(dc.SampleRate)
	}
	if c.ID == 0 {
		return c, fmt.Errorf("%w: no common audio codec", &StatusError{Code: 488, Reason: "Not Acceptable Here"})
	}
	return c, nil
}

func (c *diagoChannel) Codec() rtpCodec { return c.codec }

// CallID is the dialog's Call-ID.
func (c *diagoChannel) CallID() string { return c.callID }

// withCallID sets the channel's Call-ID from the dialog's INVITE.
func withCallID(c *diagoChannel, req *sip.Request) *diagoChannel {
	if c != nil && req != nil {
		if h := req.CallID(); h != nil {
			c.callID = h.Value()
		}
	}
	return c
}

func (c *diagoChannel) ReadRTP(buf []byte, p *rtp.Packet) error {
	for {
		rs := c.dm.RTPSession()
		if rs == nil {
			return errors.New("sip: no RTP session")
		}
		c.hookRTCP(rs)
		n, err := rs.ReadRTP(buf, p)
		if err != nil {
			return err
		}
		// ReadRTPFromAddr is the source of this read, on this goroutine.
		// Every packet is judged, those diago consumed itself (n 0) too,
		// so that a stranger's are counted whatever they carry.
		if c.guard.admit(rs.Sess, rs.Sess.ReadRTPFromAddr, p) && n > 0 {
			return nil
		}
	}
}

func (c *diagoChannel) WriteRTP(p *rtp.Packet) error {
	rs := c.dm.RTPSession()
	if rs == nil {
		return errors.New("sip: no RTP session")
	}
	c.guard.route(rs.Sess)
	c.hookRTCP(rs)
	return rs.WriteRTP(p)
}

func (c *diagoChannel) Hangup(ctx context.Context) error { return c.hangup(ctx) }

func (c *diagoChannel) Done() <-chan struct{} { return c.done }

func (c *diagoChannel) Close() error { return c.close() }
