package main

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flashvox/flashvox/rtmp/message"
)

// The poll mode's bounds on what a server may make a subscriber hold.
const (
	parseMaxMessage   = 1 << 20 // bytes of one message
	parseMaxChunk     = 1 << 16 // the largest Set Chunk Size accepted
	parseMaxStreams   = 64      // chunk streams at once
	parseInitialChunk = 128     // RTMP 1.0 §5.4.1
)

var errParse = errors.New("clusterscale: chunk stream")

// extStyle is whether the server repeats the extended timestamp in type 3
// chunks (Flash and flashvox do, the spec's text says nothing): decided
// on the first type 3 chunk that could carry one, as rtmp/chunk does.
type extStyle int8

const (
	extUnknown extStyle = iota
	extRepeated
	extOmitted
)

// chunkState is the parser's memory of one chunk stream.
type chunkState struct {
	hasHeader, inMessage, extended bool
	style                          extStyle
	extValue                       uint32
	timestamp, delta, length       uint32
	typ                            uint8
	streamID                       uint32
	body                           []byte // the message being assembled; reused
}

// chunkParser reassembles RTMP messages from bytes that arrive in pieces
// of any size (whatever one non-blocking recv returned): the bytes of an
// unfinished chunk wait in pending for the next feed, and no state changes
// until a chunk is whole, so a chunk split at any byte parses as one. It
// applies Set Chunk Size and Abort itself (and still reports them). Not
// safe for concurrent use: the poller owns each subscriber's parser.
type chunkParser struct {
	chunkSize uint32
	streams   map[uint32]*chunkState
	pending   []byte
	fmts      [4]int // chunks seen per header type (the test checks coverage)
}

func newChunkParser() *chunkParser {
	return &chunkParser{chunkSize: parseInitialChunk, streams: make(map[uint32]*chunkState)}
}

// onMessage gets each complete message; payload is valid during the call
// only (the parser reuses it).
type onMessage func(typ uint8, timestamp, streamID uint32, payload []byte) error

// feed parses data after what the last feed left over and calls on for
// every message it completes.
func (p *chunkParser) feed(data []byte, on onMessage) error {
	buf := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		buf = p.pending
	}
	off := 0
	for off < len(buf) {
		n, err := p.chunk(buf[off:], on)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		off += n
	}
	rest := buf[off:]
	if len(rest) > int(p.chunkSize)+18 { // a whole chunk would have parsed
		return fmt.Errorf("%w: %d bytes without a complete chunk", errParse, len(rest))
	}
	if len(p.pending) > 0 { // rest is pending's tail: copy is a memmove
		p.pending = p.pending[:copy(p.pending, rest)]
	} else {
		p.pending = append(p.pending, rest...)
	}
	return nil
}

// chunk parses one chunk at the start of b and returns its length, or 0
// when b does not hold all of it yet (nothing is changed then).
func (p *chunkParser) chunk(b []byte, on onMessage) (int, error) {
	fmtType, csid := b[0]>>6, uint32(b[0]&0x3f)
	i := 1
	switch csid {
	case 0:
		if len(b) < 2 {
			return 0, nil
		}
		csid, i = 64+uint32(b[1]), 2
	case 1:
		if len(b) < 3 {
			return 0, nil
		}
		csid, i = 64+uint32(b[1])+uint32(b[2])<<8, 3
	}
	cs := p.streams[csid]
	if cs == nil {
		if fmtType != 0 {
			return 0, fmt.Errorf("%w: type %d first on chunk stream %d", errParse, fmtType, csid)
		}
		if len(p.streams) >= parseMaxStreams {
			return 0, fmt.Errorf("%w: more than %d chunk streams", errParse, parseMaxStreams)
		}
	}
	var old chunkState
	if cs != nil {
		old = *cs
	}
	next := old // committed only once the chunk is whole
	hdr := [4]int{11, 7, 3, 0}[fmtType]
	if len(b) < i+hdr {
		return 0, nil
	}
	h := b[i : i+hdr]
	i += hdr
	var field uint32
	if fmtType <= 2 {
		field = be24(h)
	}
	if fmtType <= 1 {
		next.length, next.typ = be24(h[3:]), h[6]
	}
	if fmtType == 0 {
		next.streamID = binary.LittleEndian.Uint32(h[7:])
	}
	if fmtType != 3 {
		next.extended = field == 0xffffff
		if next.extended {
			if len(b) < i+4 {
				return 0, nil
			}
			field = binary.BigEndian.Uint32(b[i:])
			next.extValue = field
			i += 4
		}
	} else if next.extended && next.style != extOmitted {
		if len(b) < i+4 {
			return 0, nil // also when undecided: the 4 bytes decide
		}
		if next.style == extRepeated || binary.BigEndian.Uint32(b[i:]) == next.extValue {
			next.style = extRepeated
			i += 4
		} else {
			next.style = extOmitted
		}
	}
	held := len(old.body)
	if fmtType != 3 && next.inMessage {
		// A new header mid-message: the server gave the old one up
		// without an Abort; drop it as rtmp/chunk does.
		next.inMessage, held = false, 0
	}
	if !next.inMessage {
		switch fmtType {
		case 0:
			next.timestamp, next.delta = field, field
		case 1, 2:
			next.delta = field
			next.timestamp += field
		case 3:
			next.timestamp += next.delta
		}
		if next.length > parseMaxMessage {
			return 0, fmt.Errorf("%w: message of %d bytes", errParse, next.length)
		}
		held = 0
	}
	n := int(min(next.length-uint32(held), p.chunkSize))
	if len(b) < i+n {
		return 0, nil
	}
	// The chunk is whole: commit.
	p.fmts[fmtType]++
	if cs == nil {
		cs = &chunkState{}
		p.streams[csid] = cs
	}
	next.hasHeader, next.inMessage = true, true
	next.body = append(old.body[:held], b[i:i+n]...)
	*cs = next
	i += n
	if uint32(len(cs.body)) < cs.length {
		return i, nil
	}
	cs.inMessage = false
	body := cs.body
	cs.body = cs.body[:0]
	if err := p.control(cs.typ, body); err != nil {
		return 0, err
	}
	if err := on(cs.typ, cs.timestamp, cs.streamID, body); err != nil {
		return 0, err
	}
	return i, nil
}

// control applies Set Chunk Size and Abort.
func (p *chunkParser) control(typ uint8, body []byte) error {
	if typ != message.TypeSetChunkSize && typ != message.TypeAbort {
		return nil
	}
	if len(body) < 4 {
		return fmt.Errorf("%w: control message %d of %d bytes", errParse, typ, len(body))
	}
	v := binary.BigEndian.Uint32(body) & 0x7fffffff
	if typ == message.TypeAbort {
		if cs := p.streams[v]; cs != nil {
			cs.inMessage, cs.body = false, cs.body[:0]
		}
		return nil
	}
	if v < 1 || v > parseMaxChunk {
		return fmt.Errorf("%w: chunk size %d (1..%d here)", errParse, v, parseMaxChunk)
	}
	p.chunkSize = v
	return nil
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
