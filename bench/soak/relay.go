package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

const (
	frameDur   = 20 * time.Millisecond // the Go clients' frames
	nellyFrame = 16 * time.Millisecond // ffmpeg's Nellymoser 16 kHz tags (256 samples)
	speexTag   = 0xB2                  // FLV audio header byte: Speex 16 kHz, as Flash writes it
	markerSize = 71                    // one wideband Speex frame's tag
)

// marker is a Speex-sized tag carrying its send time (unix ns) after the
// header byte: the receiver's one-way latency, measured on one clock.
func marker(now time.Time) []byte {
	p := make([]byte, markerSize)
	p[0] = speexTag
	binary.BigEndian.PutUint64(p[1:], uint64(now.UnixNano()))
	return p
}

// markerSent is the send time in a marker, zero for other audio.
func markerSent(p []byte) time.Time {
	if len(p) != markerSize || p[0] != speexTag {
		return time.Time{}
	}
	ns := int64(binary.BigEndian.Uint64(p[1:]))
	if ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// sendMarkers publishes a marker every 20 ms on stream sid (timestamps
// 0, 20, 40 … from start, catching up after a late tick) until ctx ends.
func sendMarkers(ctx context.Context, c *rtmp.Client, sid uint32) error {
	start := time.Now()
	t := time.NewTicker(frameDur)
	defer t.Stop()
	for n := 0; ; {
		due := int(time.Since(start)/frameDur) + 1
		for ; n < due; n++ {
			if err := c.WriteAudio(sid, uint32(n*int(frameDur/time.Millisecond)), marker(time.Now())); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// play plays name on app url into tr until ctx ends; the stream ending
// early is recorded in the track.
func play(ctx context.Context, url, name string, tr *track) {
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{OnMessage: func(m *message.Message) {
		if m.Type == message.TypeAudio && len(m.Payload) > 1 {
			tr.add(time.Now(), m.Timestamp, markerSent(m.Payload))
		}
	}})
	if err != nil {
		tr.fail("connect: " + err.Error())
		return
	}
	defer c.Close()
	sid, err := c.CreateStream(ctx)
	if err == nil {
		err = c.Play(ctx, sid, name)
	}
	if err != nil {
		tr.fail("play: " + err.Error())
		return
	}
	select {
	case <-ctx.Done():
	case <-c.Done():
		if ctx.Err() == nil {
			tr.fail(fmt.Sprintf("disconnected: %v", c.Err()))
		}
	}
}

// publishMarkers publishes markers on live/name until ctx ends.
func publishMarkers(ctx context.Context, url, name string, fail func(string)) {
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{})
	if err != nil {
		fail("publisher connect: " + err.Error())
		return
	}
	defer c.Close()
	sid, err := c.CreateStream(ctx)
	if err == nil {
		err = c.Publish(ctx, sid, name, "live")
	}
	if err == nil {
		err = sendMarkers(ctx, c, sid)
	}
	if err != nil && ctx.Err() == nil {
		fail("publisher: " + err.Error())
	}
}

// makeFLV writes 10 s of a 440 Hz tone as Nellymoser 16 kHz FLV.
func makeFLV(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "tone.flv")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", "sine=frequency=440:sample_rate=16000:duration=10", "-c:a", "nellymoser", "-ar", "16000", "-ac", "1",
		"-f", "flv", out).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ffmpeg tone: %v: %s", err, b)
	}
	return out, nil
}

// peer runs a real client process (ffmpeg, rtmpdump, sipp) until ctx
// ends: SIGINT by its PID, SIGKILL 3 s later. Its output goes to log; an
// exit before ctx ends is reported to fail. done closes when it has exited.
func peer(ctx context.Context, log string, fail func(string), name string, args ...string) (done <-chan struct{}, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 3 * time.Second
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		err := cmd.Wait()
		if ctx.Err() == nil {
			fail(fmt.Sprintf("%s exited early (%v), see %s", name, err, log))
		}
	}()
	return ch, nil
}

// relays starts the relayed streams: per stream an ffmpeg publisher of the
// looped Nellymoser tone played by a Go player and an rtmpdump, and a Go
// publisher of markers played by two Go players. It returns the tracks and
// a wait that stops the real peers and checks them.
func relays(ctx context.Context, s *server, dir string, n int, fail func(string)) ([]*track, func() []string, error) {
	flv, err := makeFLV(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	url := "rtmp://" + s.rtmp + "/live"
	var tracks []*track
	var peers []<-chan struct{}
	var dumps []string
	for i := range n {
		ff := "ff" + strconv.Itoa(i)
		done, err := peer(ctx, filepath.Join(dir, ff+".log"), fail, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
			"-stream_loop", "-1", "-i", flv, "-c", "copy", "-f", "flv", url+"/"+ff)
		if err != nil {
			return nil, nil, err
		}
		peers = append(peers, done)
		mk := "mark" + strconv.Itoa(i)
		go publishMarkers(ctx, url, mk, fail)
		tr := newTrack("relay", ff+"/go", nellyFrame)
		tracks = append(tracks, tr)
		go play(ctx, url, ff, tr)
		for j := range 2 {
			tr := newTrack("relay", fmt.Sprintf("%s/go%d", mk, j), frameDur)
			tracks = append(tracks, tr)
			go play(ctx, url, mk, tr)
		}
		dump := filepath.Join(dir, ff+".dump.flv")
		dumps = append(dumps, dump)
		done, err = peer(ctx, filepath.Join(dir, ff+".rtmpdump.log"), fail, "rtmpdump", "-q", "--live", "-r", url+"/"+ff, "-o", dump)
		if err != nil {
			return nil, nil, err
		}
		peers = append(peers, done)
	}
	// wait is called after ctx has ended (the peers got SIGINT).
	wait := func() []string {
		var bad []string
		for _, p := range peers {
			<-p
		}
		for _, d := range dumps {
			if st, err := os.Stat(d); err != nil || st.Size() < 10_000 {
				bad = append(bad, "rtmpdump wrote almost nothing to "+filepath.Base(d))
			}
		}
		return bad
	}
	return tracks, wait, nil
}
