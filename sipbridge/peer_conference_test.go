package sipbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// The sipp tail of a call that ends with our BYE, and one that ends with
// sipp's.
const (
	sippByeFromUs = `  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: sip:sipp@[local_ip]:[local_port]
      Content-Length: 0
    ]]>
  </send>
`
	sippByeFromSipp = `  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
`
)

// pinScenario writes uac_pin.xml typing each of entries (digits, then '#')
// from sip-tester's RFC 2833 pcaps, followed by tail.
func pinScenario(t *testing.T, entries []string, tail string) string {
	t.Helper()
	p := pcapScenario(t, "uac_pin.xml")
	var acts strings.Builder
	for i, e := range entries {
		for j, d := range e + "#" {
			name := string(d)
			if d == '#' {
				name = "pound"
			}
			acts.WriteString(`  <nop><action><exec play_pcap_audio="` + pcapDir + `/dtmf_2833_` + name + `.pcap"/></action></nop>
`)
			// Each pcap lasts 140 ms; the pause keeps the digits apart.
			// None after the last '#': our BYE may follow at once, and
			// sipp aborts on a BYE during a pause.
			if i < len(entries)-1 || j < len(e) {
				acts.WriteString("  <pause milliseconds=\"300\"/>\n")
			}
		}
	}
	acts.WriteString(tail)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "  <!--ACTIONS-->\n", acts.String(), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pinRoom starts a bridge whose number 15550009 is conf:board, a room with
// PIN 2468 where alice is already a member (her events in the returned log).
func pinRoom(t *testing.T, timeout time.Duration) (*env, *conference.Service, *eventLog, *conference.Member) {
	t.Helper()
	var confs *conference.Service
	e := startEnv(t, func(o *Options) {
		o.Inbound = append(o.Inbound, Inbound{Number: "15550009", Target: "conf:board"})
		calls := o.Peers
		o.Peers = func(gw *Bridge) Peers {
			p := calls(gw)
			confs = conference.New(conference.Options{Hub: o.Hub, Logger: testLogger(t),
				Rooms: []conference.RoomConfig{{Name: "board", PIN: "2468", Moderators: []string{"alice"}}}})
			p.Conferences = ConferenceJoiner{PINTimeout: timeout, Join: func(room, caller, pin string) (ConferenceMember, error) {
				m, _, err := confs.Join(room, conference.JoinOptions{User: caller, Kind: conference.KindSIP, PIN: pin})
				if errors.Is(err, conference.ErrBadPIN) {
					return nil, errors.Join(ErrConferencePIN, err)
				}
				if err != nil {
					return nil, err
				}
				return m, nil
			}}
			return p
		}
	})
	t.Cleanup(confs.Close)
	log := &eventLog{}
	alice, _, err := confs.Join("board", conference.JoinOptions{User: "alice", PIN: "2468", Notify: log.add})
	if err != nil {
		t.Fatal(err)
	}
	return e, confs, log, alice
}

// eventLog keeps alice's room events.
type eventLog struct {
	mu     sync.Mutex
	events []conference.Event
}

func (l *eventLog) add(e conference.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) has(typ, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Type == typ && e.User == user {
			return true
		}
	}
	return false
}

// sipMembers counts the SIP members of room board.
func sipMembers(confs *conference.Service) int {
	info, err := confs.Room("board")
	if err != nil {
		return 0
	}
	n := 0
	for _, m := range info.Members {
		if m.Kind == conference.KindSIP {
			n++
		}
	}
	return n
}

// TestPeerSippConferencePIN: sipp calls a room with a PIN, types a wrong
// one and then the right one as RFC 2833 digits: it is in the room (alice
// is told it joined) until its BYE, when it leaves.
func TestPeerSippConferencePIN(t *testing.T) {
	// sipp stops a pcap still playing when the next starts: let '#' end.
	scen := pinScenario(t, []string{"1357", "2468"},
		`  <pause milliseconds="300"/>
  <nop><action><exec play_pcap_audio="`+pcapDir+`/g711a.pcap"/></action></nop>
  <pause milliseconds="4000"/>
`+sippByeFromSipp)
	e, confs, alice, am := pinRoom(t, 15*time.Second)
	uac := testpeer.SippUAC(t, 40*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550009", "-m", "1")
	testwait.ForDetail(t, 30*time.Second, "sipp to join the room", func() bool { return sipMembers(confs) > 0 }, uac.Output)
	if !alice.has(conference.EvJoined, "ext:sipp") { // the trunk's caller: external
		t.Errorf("alice was not told ext:sipp joined: %+v", alice.events)
	}
	// The SIP member made the room mixed: alice's mix carries sipp's audio
	// (sip-tester's A-law recording), so its media started after the PIN.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	heard := hearMix(ctx, t, e.hub, am.PlayKey())
	cancel()
	if lvl := audiotest.RMSDB(heard); len(heard) < 16000 || lvl < -45 {
		t.Errorf("alice's mix: %d samples at %.1f dBFS, want sipp's audio", len(heard), lvl)
	} else {
		t.Logf("alice heard %.1f s of sipp at %.1f dBFS", float64(len(heard))/16000, lvl)
	}
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
	testwait.For(t, 10*time.Second, "sipp's BYE to take it out of the room", func() bool { return sipMembers(confs) == 0 })
	if n := e.bridge.Stats.AuthFailures.Load(); n != 1 {
		t.Errorf("auth failures = %d, want 1 (the wrong PIN)", n)
	}
}

// TestPeerSippConferenceWrongPIN: three wrong PINs get the caller a BYE
// (sipp's scenario waits for it) and never a place in the room.
func TestPeerSippConferenceWrongPIN(t *testing.T) {
	scen := pinScenario(t, []string{"1", "2467", "24689"}, sippByeFromUs)
	e, confs, alice, _ := pinRoom(t, 15*time.Second)
	uac := testpeer.SippUAC(t, 40*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550009", "-m", "1")
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac (waiting for our BYE): %v\n%s", err, uac.Output())
	}
	if n := e.bridge.Stats.AuthFailures.Load(); n != 3 {
		t.Errorf("auth failures = %d, want 3", n)
	}
	if n := sipMembers(confs); n != 0 || alice.has(conference.EvJoined, "ext:sipp") {
		t.Errorf("sipp joined with a wrong PIN (%d SIP members)", n)
	}
}

// TestPeerSippConferencePINTimeout: a caller that types nothing gets a BYE
// after the PIN timeout.
func TestPeerSippConferencePINTimeout(t *testing.T) {
	scen := pinScenario(t, nil, sippByeFromUs)
	e, confs, _, _ := pinRoom(t, 2*time.Second)
	uac := testpeer.SippUAC(t, 40*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550009", "-m", "1")
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac (waiting for our BYE): %v\n%s", err, uac.Output())
	}
	if n := sipMembers(confs); n != 0 {
		t.Errorf("%d SIP members after the timeout", n)
	}
}

// hearMix decodes the Speex 16 kHz mix at key until ctx ends.
func hearMix(ctx context.Context, t *testing.T, h *media.Hub, key string) []int16 {
	t.Helper()
	if key == "" {
		t.Fatal("alice has no mix to play")
	}
	dec, err := codecs.NewDecoder(codec.Speex, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := dec.(io.Closer); ok {
		defer c.Close()
	}
	q := h.NewQueue(0)
	sub := h.Subscribe(key, q)
	defer sub.Close()
	var pcm []int16
	for {
		f, err := q.Next(ctx)
		if err != nil {
			return pcm
		}
		if f.Kind == media.KindAudio && f.Codec == codec.Speex {
			pcm, _ = dec.Decode(pcm, f.Payload)
		}
	}
}

// TestPeerSippConferenceDialOut: a room's moderator invites a number; the
// bridge calls it through the dial plan's trunk (sipp's UAS, which echoes
// RTP), it joins the room as a SIP member, alice hears her own tone come
// back through it, and ending the room hangs the call up (sipp's UAS gets
// our BYE and exits 0); the leg's record says out, the room, reason room.
func TestPeerSippConferenceDialOut(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 40*time.Second, 1)
	recs := &legRecords{}
	e := startEnv(t, func(o *Options) { o.Trunks, o.Records = []Trunk{trunk(addr)}, recs })
	confs := conference.New(conference.Options{Hub: e.hub, Logger: testLogger(t), Dialer: dialer(e)})
	t.Cleanup(confs.Close)
	alice, _, err := confs.Join("out", conference.JoinOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := confs.Join("out", conference.JoinOptions{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := confs.Invite("bob", "out", "15551234567"); !errors.Is(err, conference.ErrNotModerator) {
		t.Fatalf("bob invites: %v, want not a moderator", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go talkSpeex(ctx, t, e.hub, alice.PublishKey(), 700)
	if err := confs.Invite("alice", "out", "15551234567"); err != nil {
		t.Fatalf("alice invites: %v", err)
	}
	var info conference.RoomInfo
	testwait.ForDetail(t, 20*time.Second, "the invited number to join", func() bool {
		info, _ = confs.Room("out")
		n := 0
		for _, m := range info.Members {
			if m.Kind == conference.KindSIP && m.User == "sip:15551234567" {
				n++
			}
		}
		return n == 1
	}, func() string { return fmt.Sprintf("%+v\nsipp: %s", info, uas.Output()) })
	hctx, hcancel := context.WithTimeout(ctx, 3*time.Second)
	heard := hearMix(hctx, t, e.hub, alice.PlayKey())
	hcancel()
	if len(heard) < 16000 {
		t.Fatalf("alice heard %d samples", len(heard))
	}
	db := audiotest.SpanToneDB(heard[len(heard)/2:], 16000, 700)
	t.Logf("alice hears her 700 Hz echoed by sipp at %.1f dB", db)
	if db < -40 {
		t.Errorf("alice hears her tone through the invited number at %.1f dB, want above -40", db)
	}
	if err := confs.End("alice", "out"); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
	testwait.For(t, 5*time.Second, "the leg's record", func() bool { return len(recs.all()) == 1 })
	if r := recs.all()[0]; r.Direction != "out" || r.Party != "conf:out" || r.Peer != "upstream" || r.Reason != "room" || r.BytesIn == 0 || r.BytesOut == 0 || r.SIPCallID == "" {
		t.Errorf("leg record %+v", r)
	}
}

// dialer lets a room service dial numbers through e's bridge, as the server does.
func dialer(e *env) conference.NumberDialer {
	return func(number, by string, join func() (*conference.Member, error), failed func(string)) error {
		return e.bridge.DialConference(number, by, func() (ConferenceMember, error) {
			m, err := join()
			if err != nil {
				return nil, err
			}
			return m, nil
		}, failed)
	}
}

// TestPeerSippConferenceDialOutBusy: the invited number rings, then sipp's
// UAS answers 486 Busy Here: the moderator (alice) is told invite_failed
// with the SIP status as the reason; bob, not a moderator, is not.
func TestPeerSippConferenceDialOutBusy(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 40*time.Second, 1, "-sf", "testdata/uas_busy.xml")
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
	confs := conference.New(conference.Options{Hub: e.hub, Logger: testLogger(t), Dialer: dialer(e)})
	t.Cleanup(confs.Close)
	toAlice, toBob := make(chan conference.Event, 64), make(chan conference.Event, 64)
	queue := func(c chan conference.Event) conference.Notifier {
		return func(ev conference.Event) {
			select {
			case c <- ev:
			default:
			}
		}
	}
	if _, _, err := confs.Join("busy", conference.JoinOptions{User: "alice", Notify: queue(toAlice)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := confs.Join("busy", conference.JoinOptions{User: "bob", Notify: queue(toBob)}); err != nil {
		t.Fatal(err)
	}
	if err := confs.Invite("alice", "busy", "15551234567"); err != nil {
		t.Fatalf("alice invites: %v", err)
	}
	timeout := time.After(20 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-toAlice:
			if ev.Type != conference.EvInviteFailed {
				continue
			}
			got = true
			t.Logf("alice is told invite_failed, reason %q", ev.Reason)
			if ev.Room != "busy" || ev.User != "15551234567" || ev.By != "alice" || !strings.Contains(ev.Reason, "486") {
				t.Errorf("alice is told %+v, want room busy, user 15551234567, by alice, reason with 486", ev)
			}
		case <-timeout:
			t.Fatalf("alice is never told the invitation failed\nsipp: %s", uas.Output())
		}
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
	// Events are told in order: bob's join-time events are all queued by now.
	for len(toBob) > 0 {
		if ev := <-toBob; ev.Type == conference.EvInviteFailed {
			t.Errorf("bob (not a moderator) is told %+v", ev)
		}
	}
	if info, err := confs.Room("busy"); err != nil || len(info.Members) != 2 {
		t.Errorf("room after the failed invitation: %+v, %v", info, err)
	}
}

// talkSpeex publishes a Speex 16 kHz tone on key in real time until ctx ends.
func talkSpeex(ctx context.Context, t *testing.T, h *media.Hub, key string, freq float64) {
	pub, err := h.Publish(key)
	if err != nil {
		t.Error(err)
		return
	}
	defer pub.Close()
	enc, err := codecs.NewEncoder(codec.Speex, 16000)
	if err != nil {
		t.Error(err)
		return
	}
	if c, ok := enc.(io.Closer); ok {
		defer c.Close()
	}
	tone := audiotest.Sine(16000, 16000, freq, 0.3)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		k := (i * 320) % (len(tone) - 320)
		pkt, _ := enc.Encode(nil, tone[k:k+320])
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Timestamp: uint32(i * 20), Payload: pkt})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
