package rtmfp_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TestPeerDialTCServer: our initiator against rtmfp-cpp's tcserver (HMAC
// and sequence numbers required; -H -S off; -x static Diffie-Hellman
// keys). It connects, publishes an ffmpeg-made Nellymoser file, and ffmpeg
// plays it from tcserver over RTMP: the same tags come out.
func TestPeerDialTCServer(t *testing.T) {
	for _, mode := range []struct {
		name  string
		args  []string
		media bool
	}{{"hmac+seq", nil, true}, {"flash", []string{"-H", "-S"}, false}, {"static-dh", []string{"-x"}, false}} {
		t.Run(mode.name, func(t *testing.T) {
			udp, rtmpPort := testpeer.FreePort(t), testpeer.FreePort(t)
			args := append([]string{"-B", "127.0.0.1:" + strconv.Itoa(udp), "-b", "127.0.0.1:" + strconv.Itoa(rtmpPort)}, mode.args...)
			testpeer.Start(t, 60*time.Second, tool(t, "tcserver"), args...)
			testpeer.WaitTCP(t, "127.0.0.1:"+strconv.Itoa(rtmpPort), 5*time.Second)
			uri := "rtmfp://127.0.0.1:" + strconv.Itoa(udp) + "/live"
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := rtmfp.Dial(ctx, uri, rtmfp.DialOptions{})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if res := connect(t, c, uri); res.Name != "_result" {
				t.Fatalf("connect: %+v", res)
			}
			if !mode.media {
				return
			}
			send(t, c, 0, &message.Command{Name: "createStream", TxID: 2})
			res := waitCommand(t, c, "_result")
			id, _ := res.Args[0].(float64)
			if id == 0 {
				t.Fatalf("createStream: %+v", res)
			}
			send(t, c, uint32(id), &message.Command{Name: "publish", TxID: 0, Args: []any{"up", "live"}})
			if st := waitCommand(t, c, "onStatus"); st.StatusObject().GetString("code") != "NetStream.Publish.Start" {
				t.Fatalf("publish: %+v", st.StatusObject())
			}
			tags, err := testpeer.ReadFLV(nellyFLV(t, 6))
			if err != nil {
				t.Fatal(err)
			}
			want := testpeer.AudioPayloads(tags)
			out := filepath.Join(t.TempDir(), "got.flv")
			player := testpeer.Start(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
				"-i", "rtmp://127.0.0.1:"+strconv.Itoa(rtmpPort)+"/live/up", "-t", "3", "-c", "copy", "-f", "flv", out)
			tick := time.NewTicker(16 * time.Millisecond)
			defer tick.Stop()
			for i, p := range want {
				<-tick.C
				if err := c.WriteMessage(&message.Message{Type: message.TypeAudio, Timestamp: uint32(16 * i), StreamID: uint32(id), Payload: p}); err != nil {
					t.Fatalf("audio %d: %v", i, err)
				}
				select {
				case <-player.Done():
				default:
					continue
				}
				break
			}
			if err := player.Wait(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, player.Output())
			}
			gotTags, err := testpeer.ReadFLV(out)
			if err != nil {
				t.Fatal(err)
			}
			got := testpeer.AudioPayloads(gotTags)
			if len(got) < 150 {
				t.Fatalf("ffmpeg got %d audio tags from tcserver, want ≥ 150", len(got))
			}
			index := map[string]bool{}
			for _, p := range want {
				index[string(p)] = true
			}
			for i, p := range got {
				if !index[string(p)] {
					t.Fatalf("tag %d is not one we sent", i)
				}
			}
			t.Logf("ffmpeg got %d tags through tcserver", len(got))
		})
	}
}

func send(t *testing.T, c *rtmfp.Conn, streamID uint32, cmd *message.Command) {
	t.Helper()
	m, err := cmd.MarshalMessage(streamID)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(m); err != nil {
		t.Fatal(err)
	}
}
