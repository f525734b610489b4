package conference

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"syscall"
)

// A recording is written by its own goroutine so that a slow disk never
// delays a mix: the mixer fills blocks of recordBlock frames (500 ms) and
// hands them over through a queue of recordQueue blocks; when the queue is
// full (the disk stalled for that long) a block is dropped and counted.
// Every recordCheckpoint blocks (1 s) the file's headers are rewritten to
// say what it holds, so a killed server loses at most that much. A
// recording that cannot be written (no space, directory not writable)
// tells the room's moderators, counts Stats.RecordErrors, and retries
// every recordRetry blocks (3 s) into a new file.
const (
	recordBlock      = 25
	recordQueue      = 16
	recordCheckpoint = 2
	recordRetry      = 6
)

// Recording events, told to the room's moderators: EvRecordFailed (Reason:
// one of the RecordReason* below) when the room stops being recorded,
// once per failure (a moderator who joins while it lasts is told at the
// next retry), and EvRecordResumed when a new file is being written.
const (
	EvRecordFailed  = "record_failed"
	EvRecordResumed = "record_resumed"
)

// Reasons of record_failed events.
const (
	RecordReasonNoSpace     = "no_space"     // the disk (or quota) is full
	RecordReasonNotWritable = "not_writable" // the directory is missing, read-only or not ours
	RecordReasonIOError     = "io_error"     // any other failure to write
)

// recording writes a room's full mix to WAV or FLV files. write and close
// belong to the mixer goroutine; everything below done belongs to the
// writer goroutine (run).
type recording struct {
	r       *room
	log     *slog.Logger
	blocks  chan []int16
	free    chan []int16
	cur     []int16
	done    chan struct{}
	dropped int // blocks dropped since the last warning

	file       *recordFile // nil while failing
	failed     error       // the current failure's first error; nil while recording
	sinceRetry int         // blocks since the last attempt to open a file
	lost       int64       // samples not recorded in the current failure
	told       map[*Member]bool
}

// startRecording starts recording room r; its writer goroutine opens the
// first file. It fails only for a format it does not know.
func startRecording(r *room) (*recording, error) {
	if r.record != RecordWAV && r.record != RecordFLV {
		return nil, fmt.Errorf("conference: recording %s: format %q", r.name, r.record)
	}
	rec := &recording{r: r, log: r.log, blocks: make(chan []int16, recordQueue),
		free: make(chan []int16, recordQueue), done: make(chan struct{})}
	rec.cur = make([]int16, 0, recordBlock*FrameSamples)
	go rec.run()
	return rec, nil
}

// write appends one 20 ms frame of the mix; it never blocks.
func (r *recording) write(frame []int16) {
	r.cur = append(r.cur, frame...)
	if len(r.cur) < recordBlock*FrameSamples {
		return
	}
	select {
	case r.blocks <- r.cur:
		if r.dropped > 0 {
			r.log.Warn("recording lost audio: the disk was too slow", "seconds", float64(r.dropped)*recordBlock*FrameSamples/MixRate)
			r.dropped = 0
		}
		select {
		case r.cur = <-r.free:
			r.cur = r.cur[:0]
		default:
			r.cur = make([]int16, 0, recordBlock*FrameSamples)
		}
	default:
		r.dropped++ // the block is lost; reuse it
		r.cur = r.cur[:0]
	}
}

// close hands over the last partial block and waits until the file is
// complete and closed.
func (r *recording) close() {
	if r.dropped > 0 {
		r.log.Warn("recording lost audio: the disk was too slow", "seconds", float64(r.dropped)*recordBlock*FrameSamples/MixRate)
	}
	if len(r.cur) > 0 {
		r.blocks <- r.cur // the writer drains the queue, so this returns
	}
	close(r.blocks)
	<-r.done
}

// run opens the first file, writes blocks until close, then completes
// the file.
func (r *recording) run() {
	defer close(r.done)
	r.open()
	for b := range r.blocks {
		r.store(b)
		select {
		case r.free <- b:
		default:
		}
	}
	if r.file != nil {
		r.file.close()
		r.file = nil
	}
	if r.failed != nil {
		r.log.Warn("recording ended while failing", "err", r.failed, "lost_seconds", float64(r.lost)/MixRate)
	}
}

// store writes b to the file, or, while failing, counts it lost and
// retries a new file every recordRetry blocks.
func (r *recording) store(b []int16) {
	if r.file == nil {
		if r.sinceRetry++; r.sinceRetry >= recordRetry {
			r.sinceRetry = 0
			r.open()
		}
		if r.file == nil {
			r.lost += int64(len(b))
			return
		}
	}
	if err := r.file.write(b); err != nil {
		r.fail(err)
	}
}

// open starts a new file, named by the time now; after a failure it is
// a resumption.
func (r *recording) open() {
	f, err := openRecordFile(r.r.svc.opts.RecordDir, r.r.name, r.r.record, r.r.svc.opts.Now(), r.log)
	if err != nil {
		r.fail(err)
		return
	}
	r.file = f
	if r.failed == nil {
		f.log.Info("recording started", "format", r.r.record)
		return
	}
	f.log.Info("recording resumed", "lost_seconds", float64(r.lost)/MixRate)
	told := r.r.tellModerators(Event{Type: EvRecordResumed, Time: r.r.svc.opts.Now(), Room: r.r.name},
		func(m *Member) bool { return r.told[m] })
	r.log.Info("told moderators: recording resumed", "told", told)
	r.failed, r.lost, r.told = nil, 0, nil
}

// fail counts err, closes the file being written (its headers say what
// it holds), logs the failure once and tells the moderators not told yet.
func (r *recording) fail(err error) {
	r.r.svc.Stats.RecordErrors.Add(1)
	if r.file != nil {
		r.file.close()
		r.file = nil
	}
	reason := recordReason(err)
	if r.failed == nil {
		r.failed, r.told = err, map[*Member]bool{}
		r.log.Error("recording failed; the room goes on unrecorded, retrying into a new file",
			"err", err, "reason", reason, "retry_every", fmt.Sprintf("%gs", float64(recordRetry*recordBlock*FrameSamples)/MixRate))
	}
	told := r.r.tellModerators(Event{Type: EvRecordFailed, Time: r.r.svc.opts.Now(), Room: r.r.name, Reason: reason},
		func(m *Member) bool {
			if r.told[m] {
				return false
			}
			r.told[m] = true
			return true
		})
	if told > 0 {
		r.log.Info("told moderators: recording failed", "told", told, "reason", reason)
	}
}

// recordReason is the record_failed reason of err.
func recordReason(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return RecordReasonNoSpace
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return RecordReasonNotWritable
	}
	return RecordReasonIOError
}

// tellModerators tells e to the members of r who are moderators and for
// whom want says yes; it returns how many were told.
func (r *room) tellModerators(e Event, want func(*Member) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.members {
		if slices.Contains(r.moderators, m.User) && want(m) {
			m.tell(e)
			n++
		}
	}
	return n
}
