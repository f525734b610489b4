// Package conference runs rooms where many web users and SIP phones talk
// together, in one of two modes:
//
//   - relay: every member plays every other member's stream. The server
//     only tells each member the stream names to play as people join and
//     leave; it forwards each member's frames untouched (one function call
//     per frame, no copy) through a gate that mute and kick close.
//   - mixed: the server decodes every member's audio once (one hub
//     subscription and one decoder per member), mixes it at 16 kHz in 20 ms
//     frames with mix.MixMinusOne, and publishes one "everyone but me"
//     stream per member, encoded in that member's codec.
//
// How the mode is chosen: a configured room has its mode; otherwise the
// first member may ask for one; otherwise Options.DefaultMode. A room in
// ModeAuto starts as relay and becomes mixed, for good, when it would grow
// past Options.RelayMaxMembers; any relay room becomes mixed when a SIP
// member or an invited user's call joins (a phone hears one stream). Every
// member is then told (event "mode") the mix to play instead of the
// others' streams. A recorded room (RoomConfig.Record) is mixed from its
// start: its mixer also sums everyone for the recording (record.go).
//
// Ownership: Service.mu guards the rooms map; each room's mu guards its
// members and mode. A mixed room's mixer goroutine (mixer.run) owns every
// codec, buffer and output publisher of the mix; it reads the member list
// from an atomically swapped snapshot, and members' audio reaches it
// through one small bounded queue per member filled by the hub's sink.
package conference
