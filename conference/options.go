package conference

import (
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// Mode is how a room carries audio.
type Mode string

// Room modes.
const (
	ModeRelay Mode = "relay" // members play each other's streams
	ModeMixed Mode = "mixed" // the server mixes; one stream in, one out per member
	ModeAuto  Mode = "auto"  // relay, until a SIP member or RelayMaxMembers+1 members
)

// ParseMode reads a mode name; "" is ModeAuto's caller's business and is
// refused here.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeRelay, ModeMixed, ModeAuto:
		return m, nil
	}
	return "", ErrBadMode
}

// The mixer's fixed format: 16 kHz mono in 20 ms frames.
const (
	MixRate         = 16000
	FrameDuration   = 20 * time.Millisecond
	FrameSamples    = MixRate / 50
	frameMillis     = 20
	defaultMaxRooms = 100
)

// RoomConfig is a room set up in advance; ad-hoc rooms need none.
type RoomConfig struct {
	Name       string
	Mode       Mode     // "" = Options.DefaultMode
	PIN        string   // "" = none; checked on every join (SIP callers type it as DTMF)
	Moderators []string // user names allowed to mute, kick, lock and end
	MaxMembers int      // 0 = Options.MaxMembers
	// Codec is what the mixes of members who name no codec are encoded in
	// (0 = Options.Codec).
	Codec codec.ID
	// Record writes the room's mix (everyone) to a file in
	// Options.RecordDir from its first member to its end. A recorded room
	// is mixed from its start whatever its Mode: the recording needs
	// everyone decoded, which is most of a mix's cost.
	Record RecordFormat
}

// RecordFormat is the file format of a room's recording.
type RecordFormat string

// Recording formats.
const (
	RecordNone RecordFormat = ""
	RecordWAV  RecordFormat = "wav" // 16 kHz mono 16-bit PCM
	RecordFLV  RecordFormat = "flv" // Speex 16 kHz audio tags
)

// Throttle is a guessing throttle (package throttle): Check before a PIN
// is compared, Fail or Succeed after.
type Throttle interface {
	Check(addr, account string) time.Duration
	Fail(addr, account string)
	Succeed(addr, account string)
}

// Options configure a Service. Components get plain values, not the config.
type Options struct {
	Hub        *media.Hub
	MaxRooms   int // rooms at once (default 100)
	MaxMembers int // members per room (default 50)
	// DefaultMode is the mode of a room nobody configured or asked for
	// (default ModeAuto).
	DefaultMode Mode
	// RelayMaxMembers is the largest an auto room grows in relay mode
	// (default 6).
	RelayMaxMembers int
	// Codec is what a mixed member's mix is encoded in when its join names
	// no codec and its room none either (default Speex at 16 kHz). A SIP or
	// call member hears its own codec instead if its first audio comes
	// within a second of its join. A mix never changes codec (output).
	Codec codec.ID
	// Jitter is how much audio a member's input buffers before it enters the
	// mix, rounded up to whole 20 ms frames (default 20ms); the buffer is
	// trimmed back to it when it holds more than Jitter+60ms.
	Jitter time.Duration
	// SpeexComplexity is the Speex encoder complexity (1..10) of the mixes
	// members hear (default DefaultSpeexComplexity). Higher searches more
	// and costs more CPU per member; recordings keep libspeex's 3.
	SpeexComplexity int
	// SpeakerInterval is the least time between two active-speaker events
	// of a room (default 250ms: at most 4 per second).
	SpeakerInterval time.Duration
	// StreamPrefix is put before issued stream names to make hub keys
	// (default "conf/").
	StreamPrefix string
	// RecordDir is where rooms with Record set write their files
	// (ROOM-YYYYMMDD-HHMMSS.wav|flv, UTC); "" = the working directory.
	RecordDir string
	Rooms     []RoomConfig
	// Calls rings users a moderator invites (Service.Invite); nil: users
	// cannot be invited.
	Calls Ringer
	// Dialer calls phone numbers a moderator invites (Service.Invite);
	// nil: numbers cannot be invited.
	Dialer NumberDialer
	// Throttle slows PIN guessing: joins from an address that keeps
	// failing a room's PIN (account "conf:ROOM") are refused with a
	// *ThrottledError for a while. nil: not slowed.
	Throttle Throttle
	// Records receives every membership as it begins and ends
	// (records.go); nil: none.
	Records Recorder
	// RehomeFor bounds how long a cluster's members try to follow their
	// room to its next node when its node was lost or lost the room's
	// lease (rehome.go, handover.go); default 30s. Those that could not
	// are out of the room.
	RehomeFor time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

func (o *Options) setDefaults() {
	if o.MaxRooms <= 0 {
		o.MaxRooms = defaultMaxRooms
	}
	if o.MaxMembers <= 0 {
		o.MaxMembers = 50
	}
	if o.DefaultMode == "" {
		o.DefaultMode = ModeAuto
	}
	if o.RelayMaxMembers <= 0 {
		o.RelayMaxMembers = 6
	}
	if o.Codec == 0 {
		o.Codec = codec.Speex
	}
	if o.Jitter <= 0 {
		o.Jitter = FrameDuration
	}
	if o.SpeexComplexity <= 0 {
		o.SpeexComplexity = DefaultSpeexComplexity
	}
	o.SpeexComplexity = min(o.SpeexComplexity, 10) // libspeex's most
	if o.SpeakerInterval <= 0 {
		o.SpeakerInterval = 250 * time.Millisecond
	}
	if o.RehomeFor <= 0 {
		o.RehomeFor = 30 * time.Second
	}
	if o.StreamPrefix == "" {
		o.StreamPrefix = "conf/"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
