package conference

import (
	"sync"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/mix"
)

// maxCatchUp is how many late mixes the mixer makes at once after a stall
// (a paused process, a starved core); older ones are skipped, not burst.
const maxCatchUp = 5

// mixer makes a mixed room's audio on its own goroutine, every 20 ms by the
// wall clock: take each member's 20 ms, MixMinusOne, encode and publish
// each member's mix. It owns every input's codecs and output.
type mixer struct {
	r    *room
	st   *Stats
	mx   *mix.Mixer
	quit chan struct{}
	once sync.Once
	done chan struct{} // closed when run returned: its mixes are unpublished

	snap     *[]*input // the member snapshot list was made from
	list     []*input
	ins      [][]int16
	outs     [][]int16
	bufs     [][]int16 // output buffers, reused across membership changes
	ticks    uint32
	speaker  speaker
	failures func(codec.ID, error)
	shared   sharedMix  // the full mix's encoders, for members who add nothing (shared.go)
	rec      *recording // nil: the room is not recorded
	recBuf   []int16
}

func newMixer(r *room) *mixer {
	x := &mixer{r: r, st: &r.svc.Stats, mx: mix.New(FrameSamples), quit: make(chan struct{}), done: make(chan struct{})}
	x.speaker.every = uint32(max(1, r.svc.opts.SpeakerInterval/FrameDuration))
	x.shared.complexity = r.svc.opts.SpeexComplexity
	x.failures = func(id codec.ID, err error) { r.log.Warn("member mix cannot be encoded", "codec", id, "err", err) }
	return x
}

func (x *mixer) stop() { x.once.Do(func() { close(x.quit) }) }

func (x *mixer) run() {
	defer close(x.done)
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	defer x.closeAll()
	x.startRecording()
	start := time.Now()
	var done int64
	for {
		select {
		case <-x.quit:
			return
		case now := <-t.C:
			due := int64(now.Sub(start) / FrameDuration)
			if due-done > maxCatchUp {
				x.r.log.Warn("mixer fell behind, skipping audio", "frames", due-done-maxCatchUp)
				x.st.Skipped.Add(uint64(due - done - maxCatchUp))
				x.ticks += uint32(due - done - maxCatchUp)
				done = due - maxCatchUp
			}
			for ; done < due; done++ {
				x.tick()
			}
		}
	}
}

// tick makes one 20 ms mix for every member.
func (x *mixer) tick() {
	x.reconcile()
	for i, in := range x.list {
		x.ins[i] = in.take(x.st)
	}
	x.mx.MixMinusOne(x.outs, x.ins)
	if x.rec != nil {
		x.rec.write(x.mx.Sum(x.recBuf, x.ins))
	}
	now := x.ticks * frameMillis
	x.shared.begin(x.ticks)
	for i, in := range x.list {
		// Members adding nothing hear the full mix, one encode for all of
		// them, where they can without a switch to hear (shared.go).
		in.out.mix(&x.shared, x.outs[i], x.ins[i] == nil, now, x.failures)
	}
	x.speaker.update(x)
	x.ticks++
	x.st.Mixes.Add(1)
}

// reconcile follows the room's member snapshot: new members get an output
// stream, members gone have their codecs and stream closed. It allocates
// only when the membership changed.
func (x *mixer) reconcile() {
	p := x.r.snap.Load()
	if p == x.snap || p == nil {
		return
	}
	next := *p
	for _, in := range x.list {
		if !containsInput(next, in) {
			in.close()
		}
	}
	h, prefix := x.r.svc.opts.Hub, x.r.svc.opts.StreamPrefix
	for _, in := range next {
		if !in.started {
			in.started = true
			pub, err := h.Publish(prefix + in.m.mix)
			if err != nil {
				x.r.log.Warn("member mix cannot be published", "member", in.m.ID, "err", err)
			}
			in.out.pub = pub
		}
	}
	for len(x.bufs) < len(next) {
		x.bufs = append(x.bufs, make([]int16, FrameSamples))
	}
	x.snap, x.list = p, next
	x.ins = make([][]int16, len(next))
	x.outs = x.bufs[:len(next)]
	if x.speaker.current != nil && !containsInput(next, x.speaker.current) {
		x.speaker.current = nil
	}
}

func containsInput(list []*input, in *input) bool {
	for _, x := range list {
		if x == in {
			return true
		}
	}
	return false
}

func (x *mixer) closeAll() {
	for _, in := range x.list {
		in.close()
	}
	x.shared.close()
	// Members that joined after the last tick have outputs nobody started;
	// their codecs are Go memory, nothing to close.
	x.list = nil
	if x.rec != nil {
		x.rec.close() // waits for a complete file: room end and Service.Close both come here
		x.rec = nil
	}
}

// startRecording starts the room's recording if it has one; a file that
// cannot be written is told to the moderators and retried (record.go).
func (x *mixer) startRecording() {
	r := x.r
	if r.record == RecordNone {
		return
	}
	rec, err := startRecording(r)
	if err != nil {
		r.log.Error("room not recorded", "err", err)
		return
	}
	x.rec, x.recBuf = rec, make([]int16, FrameSamples)
}

// Active speaker detection: a member talks from its first frame louder than
// talkLevel until quietFrames frames in a row are not; the active speaker
// is the loudest member talking, announced at most once per every ticks.
const (
	talkLevel   = 300 // mean absolute sample value, about -40 dBFS
	quietFrames = 10  // 200 ms
)

type speaker struct {
	current *input
	last    uint32 // tick of the last announcement
	every   uint32
	told    bool
}

func (s *speaker) update(x *mixer) {
	var loudest *input
	for _, in := range x.list {
		if in.level >= talkLevel {
			in.talking, in.quiet = true, 0
		} else if in.talking {
			if in.quiet++; in.quiet >= quietFrames {
				in.talking = false
			}
		}
		if in.talking && (loudest == nil || in.level > loudest.level) {
			loudest = in
		}
	}
	if s.current != nil && s.current.talking && loudest != nil && loudest.level < 2*s.current.level {
		loudest = s.current // keep the floor unless clearly louder: no flapping
	}
	if loudest == s.current || (s.told && x.ticks-s.last < s.every) {
		return
	}
	s.current, s.last, s.told = loudest, x.ticks, true
	e := Event{Type: EvSpeaker, Time: x.r.svc.opts.Now(), Room: x.r.name}
	if loudest != nil {
		e.Member, e.User = loudest.m.ID, loudest.m.User
	}
	for _, in := range x.list {
		in.m.tell(e)
	}
}
