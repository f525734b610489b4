package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestConferenceConfig(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conference.Mode != "auto" || c.Conference.RelayMaxMembers != 6 || c.Conference.MaxMembers != 50 || c.Conference.SpeexComplexity != 2 {
		t.Errorf("defaults %+v", c.Conference)
	}
	for env, key := range map[string]string{
		"FLASHVOX_CONFERENCE_MODE=loud":           "conference.mode",
		"FLASHVOX_CONFERENCE_MAX_MEMBERS=1":       "conference.max_members",
		"FLASHVOX_CONFERENCE_JITTER=1s":           "conference.jitter",
		"FLASHVOX_CONFERENCE_CODEC=mp3":           "conference.codec",
		"FLASHVOX_CONFERENCE_RELAY_MAX_MEMBERS=0": "conference.relay_max_members",
		"FLASHVOX_CONFERENCE_SPEEX_COMPLEXITY=11": "conference.speex_complexity",
	} {
		var ce *Error
		if _, err := Load("", []string{env}); !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: %v, want an error on %s", env, err, key)
		}
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("conference:\n  rooms:\n    - {name: board, pin: '1234', moderators: [alice]}\n    - {name: 'bad name'}\n"), 0o600)
	var ce *Error
	if _, err := Load(path, nil); !errors.As(err, &ce) || ce.Key != "conference.rooms[1].name" {
		t.Errorf("bad room name: %v", err)
	}
}

func TestConferenceRecordConfig(t *testing.T) {
	dir := t.TempDir()
	for body, key := range map[string]string{
		"conference:\n  rooms:\n    - {name: a, record: mp3}\n":                                                                "conference.rooms[0].record",
		"conference:\n  rooms:\n    - {name: a, record: wav, mode: relay}\n":                                                   "conference.rooms[0].record",
		"conference:\n  record_dir: /rec\n  rooms:\n    - {name: a, record: flv}\n    - {name: b, record: wav, mode: mixed}\n": "",
	} {
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(body), 0o600)
		c, err := Load(path, nil)
		var ce *Error
		switch {
		case key == "" && err != nil:
			t.Errorf("%q: %v", body, err)
		case key == "" && (c.Conference.RecordDir != "/rec" || c.Conference.Rooms[0].Record != "flv"):
			t.Errorf("%q: read %+v", body, c.Conference)
		case key != "" && (!errors.As(err, &ce) || ce.Key != key):
			t.Errorf("%q: %v, want an error on %s", body, err, key)
		}
	}
}

func TestConferenceRoomCodec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("conference:\n  rooms:\n    - {name: a, codec: nellymoser}\n    - {name: b, codec: g722}\n"), 0o600)
	var ce *Error
	if _, err := Load(path, nil); !errors.As(err, &ce) || ce.Key != "conference.rooms[1].codec" {
		t.Errorf("g722 room codec: %v, want an error on conference.rooms[1].codec", err)
	}
	os.WriteFile(path, []byte("conference:\n  rooms:\n    - {name: a, codec: nellymoser}\n"), 0o600)
	if c, err := Load(path, nil); err != nil || c.Conference.Rooms[0].Codec != "nellymoser" {
		t.Errorf("room codec: %v", err)
	}
}
