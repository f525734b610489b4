package softphone

import (
	"context"
	"net/url"

	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
)

// connectServer connects to server: rtmfp://… over RTMFP (UDP), every
// other scheme with rtmp.Dial. Either way the phone talks through an
// rtmp.Client, so the call commands are the same.
// Over RTMFP it also returns the session, and peers reaching us by peer ID
// are served by peers (nil: none).
func connectServer(ctx context.Context, server string, opts rtmp.ClientOptions, peers rtmfp.Handler, blockPeers bool) (*rtmp.Client, *rtmfp.Conn, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "rtmfp" {
		c, err := rtmp.Dial(ctx, server, opts)
		return c, nil, err
	}
	mc, err := rtmfp.Dial(ctx, server, rtmfp.DialOptions{Config: rtmfp.Config{Logger: opts.Logger}, PeerHandler: peers, BlockPeers: blockPeers})
	if err != nil {
		return nil, nil, err
	}
	c, err := rtmp.NewClient(ctx, mc, u, opts)
	return c, mc, err
}
