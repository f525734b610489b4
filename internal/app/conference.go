package app

import (
	"errors"
	"log/slog"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/sipbridge"
)

// newConferences makes the room service from the config's conference
// section; calls rings the users and dialer the numbers moderators invite.
func newConferences(cfg config.Conference, hub *media.Hub, calls conference.Ringer, dialer conference.NumberDialer, guard conference.Throttle, records conference.Recorder, logger *slog.Logger) *conference.Service {
	id, _ := codec.ParseID(cfg.Codec) // validated
	o := conference.Options{
		Hub:             hub,
		MaxRooms:        cfg.MaxRooms,
		MaxMembers:      cfg.MaxMembers,
		DefaultMode:     conference.Mode(cfg.Mode),
		RelayMaxMembers: cfg.RelayMaxMembers,
		Codec:           id,
		Jitter:          cfg.Jitter,
		SpeexComplexity: cfg.SpeexComplexity,
		RecordDir:       cfg.RecordDir,
		Calls:           calls,
		Dialer:          dialer,
		Throttle:        guard,
		Records:         records,
		Logger:          logger.With("component", "conference"),
	}
	for _, r := range cfg.Rooms {
		rid, _ := codec.ParseID(r.Codec) // validated; "" = 0, conference.codec
		o.Rooms = append(o.Rooms, conference.RoomConfig{Name: r.Name, Mode: conference.Mode(r.Mode), PIN: r.PIN,
			Moderators: r.Moderators, MaxMembers: r.MaxMembers, Record: conference.RecordFormat(r.Record), Codec: rid})
	}
	return conference.New(o)
}

// sipConferences lets SIP callers to conf:ROOM join rooms; a room's PIN
// is typed by DTMF (sipbridge asks for it on conference.ErrBadPIN).
func sipConferences(confs *conference.Service) sipbridge.ConferenceJoiner {
	return sipbridge.ConferenceJoiner{Join: func(room, caller, pin string) (sipbridge.ConferenceMember, error) {
		m, _, err := confs.Join(room, conference.JoinOptions{User: caller, Kind: conference.KindSIP, PIN: pin})
		switch {
		case errors.Is(err, conference.ErrRoomFull):
			return nil, errors.Join(sipbridge.ErrConferenceFull, err)
		case errors.Is(err, conference.ErrBadPIN):
			return nil, errors.Join(sipbridge.ErrConferencePIN, err)
		case errors.Is(err, conference.ErrLocked):
			return nil, errors.Join(sipbridge.ErrConferenceRefused, err)
		case err != nil:
			return nil, err
		}
		return m, nil
	}}
}

// sipDialer lets moderators invite phone numbers into rooms through the
// SIP bridge's dial plan and trunks.
func sipDialer(sip *sipbridge.Bridge) conference.NumberDialer {
	return func(number, by string, join func() (*conference.Member, error), failed func(string)) error {
		return sip.DialConference(number, by, func() (sipbridge.ConferenceMember, error) {
			m, err := join()
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return m, nil
		}, failed)
	}
}
