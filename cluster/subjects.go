package cluster

import "encoding/base64"

// NATS subjects. A stream key becomes one subject token in base64url, so
// that its '.', '*', '>' or spaces cannot change the subject's meaning.
const (
	subjHeartbeat = "flashvox.hb"       // every node's heartbeat (JSON)
	subjWhere     = "flashvox.where"    // "who publishes KEY?"; the publisher answers
	subjAnnounce  = "flashvox.announce" // "NODE publishes KEY now" (JSON)
	subjHerePre   = "flashvox.here."    // + node: answers to that node's where
	subjWantPre   = "flashvox.want."    // + node: "send me KEY" / "stop" (JSON)
	subjFramesPre = "flashvox.frames."  // + node.key64: a stream's frames (binary)
	// maxKey bounds a stream key carried between nodes.
	maxKey = 512
	// maxControl bounds one control message (JSON).
	maxControl = 4096
)

// FramesSubject is the subject node sends key's frames on (exported for
// bench/cluster's byte count).
func FramesSubject(node, key string) string { return framesSubject(node, key) }

func framesSubject(node, key string) string {
	return subjFramesPre + node + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}
