package session

import "github.com/flashvox/flashvox/amf"

// NetConnection and NetStream status codes sent in onStatus and _result/_error.
const (
	codeConnectSuccess  = "NetConnection.Connect.Success"
	codeConnectRejected = "NetConnection.Connect.Rejected"
	codeCallFailed      = "NetConnection.Call.Failed"

	codePublishStart      = "NetStream.Publish.Start"
	codePublishBadName    = "NetStream.Publish.BadName"
	codeUnpublishSuccess  = "NetStream.Unpublish.Success"
	codePlayReset         = "NetStream.Play.Reset"
	codePlayStart         = "NetStream.Play.Start"
	codePlayStop          = "NetStream.Play.Stop"
	codePlayFailed        = "NetStream.Play.Failed"
	codePlayPublishNotify = "NetStream.Play.PublishNotify"
	codePlayUnpublish     = "NetStream.Play.UnpublishNotify"
	codePauseNotify       = "NetStream.Pause.Notify"
	codeUnpauseNotify     = "NetStream.Unpause.Notify"
	codeSeekNotify        = "NetStream.Seek.Notify"
	codeStreamFailed      = "NetStream.Failed"
)

// info builds the information object of onStatus/_result/_error as Flash
// Media Server does: level, code, description, then extras.
func info(level, code, desc string, extra ...any) *amf.Object {
	o := amf.NewObject("level", level, "code", code, "description", desc)
	for i := 0; i+1 < len(extra); i += 2 {
		o.Set(extra[i].(string), extra[i+1])
	}
	return o
}

func statusInfo(code, desc string, extra ...any) *amf.Object {
	return info("status", code, desc, extra...)
}

func errorInfo(code, desc string, extra ...any) *amf.Object {
	return info("error", code, desc, extra...)
}
