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

// newConferences makes the room service from the config's conference section.
func newConferences(cfg config.Conference, hub *media.Hub, logger *slog.Logger) *conference.Service {
	id, _ := codec.ParseID(cfg.Codec) // validated
	o := conference.Options{
		Hub:             hub,
		MaxRooms:        cfg.MaxRooms,
		MaxMembers:      cfg.MaxMembers,
		DefaultMode:     conference.Mode(cfg.Mode),
		RelayMaxMembers: cfg.RelayMaxMembers,
		Codec:           id,
		Jitter:          cfg.Jitter,
		Logger:          logger.With("component", "conference"),
	}
	for _, r := range cfg.Rooms {
		o.Rooms = append(o.Rooms, conference.RoomConfig{Name: r.Name, Mode: conference.Mode(r.Mode), PIN: r.PIN,
			Moderators: r.Moderators, MaxMembers: r.MaxMembers})
	}
	return conference.New(o)
}

// sipConferences lets SIP callers to conf:ROOM join rooms.
func sipConferences(confs *conference.Service) sipbridge.ConferenceJoiner {
	return func(room, caller string) (sipbridge.ConferenceMember, error) {
		m, _, err := confs.Join(room, conference.JoinOptions{User: caller, Kind: conference.KindSIP})
		switch {
		case errors.Is(err, conference.ErrRoomFull):
			return nil, errors.Join(sipbridge.ErrConferenceFull, err)
		case errors.Is(err, conference.ErrLocked), errors.Is(err, conference.ErrBadPIN):
			return nil, errors.Join(sipbridge.ErrConferenceRefused, err)
		case err != nil:
			return nil, err
		}
		return m, nil
	}
}
