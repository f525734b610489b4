package config

import (
	"fmt"
	"time"

	"github.com/flashvox/flashvox/account"
)

// Conference configures rooms (package conference): limits, how a room's
// mode is chosen, and rooms set up in advance.
type Conference struct {
	MaxRooms   int `yaml:"max_rooms"`   // rooms at once
	MaxMembers int `yaml:"max_members"` // members per room
	// Mode of a room nobody configured or asked for: relay | mixed | auto
	// (relay until a SIP member joins or it grows past relay_max_members).
	Mode            string `yaml:"mode"`
	RelayMaxMembers int    `yaml:"relay_max_members"`
	// Codec is what a mixed member's mix is encoded in when its join names
	// none (a SIP phone's or call device's own codec when known in time).
	Codec  string        `yaml:"codec"`
	Jitter time.Duration `yaml:"jitter"` // audio a member's input buffers before mixing
	// SpeexComplexity is the Speex encoder's search effort (1..10) for the
	// mixes members hear: most of a mixed room's CPU.
	SpeexComplexity int `yaml:"speex_complexity"`
	// RecordDir is where rooms with record set write their recordings
	// ("" = the working directory).
	RecordDir string           `yaml:"record_dir"`
	Rooms     []ConferenceRoom `yaml:"rooms"`
}

// ConferenceRoom is a room set up in advance.
type ConferenceRoom struct {
	Name       string   `yaml:"name"`
	Mode       string   `yaml:"mode"` // "" = conference.mode
	PIN        string   `yaml:"pin"`  // "" = none
	Moderators []string `yaml:"moderators"`
	MaxMembers int      `yaml:"max_members"` // 0 = conference.max_members
	Codec      string   `yaml:"codec"`       // mixes of members who name no codec; "" = conference.codec
	// Record writes the room's mix to conference.record_dir: wav | flv |
	// "" (off). A recorded room is mixed (mode relay is refused).
	Record string `yaml:"record"`
}

func (c *Config) validateConference() error {
	cf := &c.Conference
	checks := []func() error{
		intRange("conference.max_rooms", cf.MaxRooms, 1, 100_000),
		intRange("conference.max_members", cf.MaxMembers, 2, 1000),
		oneOf("conference.mode", cf.Mode, "relay", "mixed", "auto"),
		intRange("conference.relay_max_members", cf.RelayMaxMembers, 2, 1000),
		oneOf("conference.codec", cf.Codec, "speex", "nellymoser", "pcmu", "pcma"),
		durRange("conference.jitter", cf.Jitter, 20*time.Millisecond, 500*time.Millisecond),
		intRange("conference.speex_complexity", cf.SpeexComplexity, 1, 10),
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for i, r := range cf.Rooms {
		key := fmt.Sprintf("conference.rooms[%d]", i)
		switch {
		case !validRoomName(r.Name):
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("must be 1-64 letters, digits, '.', '_' or '-', got %q", r.Name)}
		case names[r.Name]:
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("duplicate room %q", r.Name)}
		case r.Mode != "" && r.Mode != "relay" && r.Mode != "mixed" && r.Mode != "auto":
			return &Error{Key: key + ".mode", Msg: fmt.Sprintf("must be relay, mixed, auto or empty, got %q", r.Mode)}
		case r.MaxMembers < 0 || r.MaxMembers > 1000:
			return &Error{Key: key + ".max_members", Msg: fmt.Sprintf("must be 0..1000, got %d", r.MaxMembers)}
		case r.Codec != "" && r.Codec != "speex" && r.Codec != "nellymoser" && r.Codec != "pcmu" && r.Codec != "pcma":
			return &Error{Key: key + ".codec", Msg: fmt.Sprintf("must be speex, nellymoser, pcmu, pcma or empty, got %q", r.Codec)}
		case r.Record != "" && r.Record != "wav" && r.Record != "flv":
			return &Error{Key: key + ".record", Msg: fmt.Sprintf("must be wav, flv or empty, got %q", r.Record)}
		case r.Record != "" && r.Mode == "relay":
			return &Error{Key: key + ".record", Msg: "a recorded room is mixed by the server: set mode mixed or auto, not relay"}
		}
		for j, u := range r.Moderators {
			if !account.ValidUserName(u) {
				return &Error{Key: fmt.Sprintf("%s.moderators[%d]", key, j), Msg: fmt.Sprintf("invalid user name %q", u)}
			}
		}
		names[r.Name] = true
	}
	return nil
}

// validRoomName mirrors conference.ValidRoomName (config imports no
// component packages).
func validRoomName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
