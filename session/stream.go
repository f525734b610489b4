package session

import (
	"bytes"
	"errors"
	"log/slog"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

// netStream is one NetStream of the connection: it publishes, plays, or
// (briefly, between commands) neither.
type netStream struct {
	id     uint32
	pub    *media.Publisher
	pubKey string
	player *player
}

func (s *Session) createStream(c *message.Command) error {
	if len(s.streams) >= s.opts.MaxStreams {
		s.refused(slog.LevelWarn, "max_streams", "limit reached: streams per connection", "app", s.app, "max", s.opts.MaxStreams)
		return s.callFailed(c, "too many streams on this connection")
	}
	// Stream ids start at 1 (0 is the NetConnection) and are never reused
	// within a connection, so a late message for a deleted stream is inert.
	s.nextID++
	id := s.nextID
	s.streams[id] = &netStream{id: id}
	return s.result(c, float64(id))
}

// closeStream stops whatever the stream does and forgets it.
func (s *Session) closeStream(id uint32) {
	ns := s.streams[id]
	if ns == nil {
		return
	}
	s.stopPublish(ns)
	s.stopPlay(ns)
	delete(s.streams, id)
}

func (s *Session) publish(streamID uint32, c *message.Command) error {
	ns := s.streams[streamID]
	name, _ := argString(c.Args, 0)
	if ns == nil {
		return s.onStatus(streamID, errorInfo(codeStreamFailed, "publish on a stream that was not created"))
	}
	if name == "" {
		// publish(null/false) is Flash's way of stopping a publication.
		s.stopPublish(ns)
		return nil
	}
	if ns.pub != nil && ns.pub.Closed() {
		ns.pub, ns.pubKey = nil, "" // ended by the server (publishEnded): the stream is free again
	}
	if ns.pub != nil || ns.player != nil {
		return s.onStatus(streamID, errorInfo(codePublishBadName, "This stream is already in use.", "details", name))
	}
	base, query := splitName(name)
	key, err := s.hookPublish(StreamRequest{Name: base, Args: query, Type: firstString(c.Args, 1, "live")})
	if err == nil {
		err = s.authorizeStream(true, base, query)
	}
	if err == nil {
		key, err = s.appConn.Publish(key)
	}
	if err != nil {
		s.refused(slog.LevelInfo, "publish", "publish refused", "app", s.app, "name", base, "why", err)
		return s.onStatus(streamID, errorInfo(codePublishBadName, err.Error(), "details", name))
	}
	pub, err := s.opts.Hub.PublishClient(key)
	if errors.Is(err, media.ErrBadName) {
		s.refused(slog.LevelInfo, "publish_in_use", "publish refused: name in use", "app", s.app, "stream", key)
		return s.onStatus(streamID, errorInfo(codePublishBadName, name+" is already being published.", "details", name))
	}
	if err != nil {
		return err
	}
	ns.pub, ns.pubKey = pub, key
	pub.OnEnd(func(why error) { s.publishEnded(streamID, key, name, why) })
	s.log.Info("publish", "stream", key, "type", firstString(c.Args, 1, "live"))
	if err := s.t.WriteMessage(message.UserControl{Event: message.EventStreamBegin, StreamID: streamID}.Message()); err != nil {
		return err
	}
	return s.onStatus(streamID, statusInfo(codePublishStart, name+" is now published.", "details", name, "clientid", 1.0))
}

func firstString(args []any, i int, def string) string {
	if v, ok := argString(args, i); ok && v != "" {
		return v
	}
	return def
}

// publishEnded tells the client that the server ended its publication
// (media.Publisher.End: in a cluster, the name went to another node's
// publisher, docs/CLUSTER.md): the refusal a publish of a name in use
// gets, NetStream.Publish.BadName, which ends ffmpeg and tells a Flash
// client to stop. It runs on End's goroutine: the transport's writes are
// safe from any goroutine; the stream's pub stays set, closed, until the
// Serve goroutine sees it (publish, stopPublish).
func (s *Session) publishEnded(streamID uint32, key, name string, why error) {
	s.log.Info("publish ended by the server", "stream", key, "why", why)
	desc := name + " is no longer published here"
	if why != nil {
		desc += ": " + why.Error()
	}
	_ = s.onStatus(streamID, errorInfo(codePublishBadName, desc, "details", name))
}

func (s *Session) stopPublish(ns *netStream) {
	if ns.pub == nil {
		return
	}
	if ns.pub.Closed() { // ended by the server: the client has had its status
		ns.pub, ns.pubKey = nil, ""
		return
	}
	ns.pub.Close()
	s.log.Info("unpublish", "stream", ns.pubKey)
	ns.pub, ns.pubKey = nil, ""
	_ = s.onStatus(ns.id, statusInfo(codeUnpublishSuccess, "Stream is now unpublished."))
}

// media forwards a publisher's audio, video and data messages to the hub.
func (s *Session) media(m *message.Message) error {
	ns := s.streams[m.StreamID]
	if ns == nil || ns.pub == nil {
		return nil // media for a stream that is not publishing: dropped, as FMS does
	}
	f := &media.Frame{Timestamp: m.Timestamp, Payload: m.Payload}
	switch m.Type {
	case message.TypeAudio:
		if len(m.Payload) == 0 {
			return nil // Flash sends empty audio at start and on mute
		}
		audioFrame(f, m.Payload)
	case message.TypeVideo:
		if len(m.Payload) == 0 {
			return nil
		}
		f.Kind, f.Config = media.KindVideo, isVideoConfig(m.Payload)
	default:
		p, ok := dataFrame(m)
		if !ok {
			return nil
		}
		f.Kind, f.Payload = media.KindData, p
	}
	ns.pub.Write(f)
	return nil
}

var setDataFrame = []byte{0x02, 0x00, 0x0d, '@', 's', 'e', 't', 'D', 'a', 't', 'a', 'F', 'r', 'a', 'm', 'e'}

// dataFrame turns a publisher's data message into the AMF0 body players get:
// "@setDataFrame" is stripped (FMS stores what follows), AMF3 data messages
// lose their leading format byte. Only onMetaData-style messages are kept.
func dataFrame(m *message.Message) ([]byte, bool) {
	p := m.Payload
	if m.Type == message.TypeDataAMF3 && len(p) > 0 && p[0] == 0 {
		p = p[1:]
	}
	p = bytes.TrimPrefix(p, setDataFrame)
	vals, err := amf.Decode0(p)
	if err != nil || len(vals) == 0 {
		return nil, false
	}
	if name, _ := vals[0].(string); name == "" {
		return nil, false
	}
	return p, true
}
