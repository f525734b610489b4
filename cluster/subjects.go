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
	subjFramesPre = "flashvox.frames."  // + node.key64: a stream's unpublish when not exported (binary); + .variant: its variant's
	subjBatchPre  = "flashvox.batch."   // + node: frames of the streams that node wants (batch.go)

	// maxKey bounds a stream key carried between nodes.
	maxKey = 512
	// maxControl bounds one control message (JSON).
	maxControl = 4096
)

func framesSubject(node, key string) string {
	return subjFramesPre + node + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// variantSubject is the subject node sends key's variant on (a
// transcode.Variant name, from a fixed set: "speex", "nellymoser@8000"),
// or key's own frames for variant "".
func variantSubject(node, key, variant string) string {
	if variant == "" {
		return framesSubject(node, key)
	}
	return framesSubject(node, key) + "." + variant
}

// batchName is a frames subject as a batch names its stream.
func batchName(subject string) string { return subject[len(subjFramesPre):] }
