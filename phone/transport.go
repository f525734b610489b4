package phone

import (
	"context"
	"net/url"

	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
)

// connectServer connects to server: rtmfp://… over RTMFP (UDP), every
// other scheme with rtmp.Dial. Either way the phone talks through an
// rtmp.Client, so the call commands are the same.
func connectServer(ctx context.Context, server string, opts rtmp.ClientOptions) (*rtmp.Client, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "rtmfp" {
		return rtmp.Dial(ctx, server, opts)
	}
	mc, err := rtmfp.Dial(ctx, server, rtmfp.DialOptions{Config: rtmfp.Config{Logger: opts.Logger}})
	if err != nil {
		return nil, err
	}
	return rtmp.NewClient(ctx, mc, u, opts)
}
