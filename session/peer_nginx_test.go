package session_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerSameCommandsAgainstNginx runs the same ffmpeg/rtmpdump command
// lines against nginx-rtmp (the reference relay) and flashvox: both must
// deliver the published audio payloads unchanged. docs/compat.md records it.
func TestPeerSameCommandsAgainstNginx(t *testing.T) {
	nginxPort := testpeer.Nginx(t, 120*time.Second)
	fv := startServer(t, rtmpConfig())
	for _, c := range []relayCase{relayCases[0], relayCases[2]} { // Nellymoser 16 kHz, Speex
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := makeSource(t, dir, c)
			srcTags, err := testpeer.ReadFLV(src)
			if err != nil {
				t.Fatal(err)
			}
			want := testpeer.AudioPayloads(srcTags)
			for _, server := range []struct {
				name string
				url  string
			}{
				{"nginx-rtmp", fmt.Sprintf("rtmp://127.0.0.1:%d/live/%s", nginxPort, c.name)},
				{"flashvox", fv.URL(c.name)},
			} {
				out := dir + "/" + server.name + ".flv"
				rd := testpeer.Start(t, 40*time.Second, "rtmpdump", "-v", "-r", server.url, "--live", "-o", out)
				// rtmpdump says so once its play is accepted; both servers
				// hold a play of an unpublished name until a publisher comes.
				testwait.For(t, 10*time.Second, server.name+" to accept the play", func() bool {
					return strings.Contains(rd.Output(), "Starting Live Stream") || strings.Contains(rd.Output(), "NetStream.Play.Start")
				})
				if o, err := testpeer.Run(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", server.url); err != nil {
					t.Fatalf("%s: publish: %v\n%s", server.name, err, o)
				}
				select {
				case <-rd.Done():
				case <-time.After(10 * time.Second):
					rd.Stop() // nginx-rtmp may keep an idle player open
				}
				tags, err := testpeer.ReadFLV(out)
				if err != nil {
					t.Fatalf("%s: %v", server.name, err)
				}
				got := testpeer.AudioPayloads(tags)
				if !containsRun(want, got) || len(got) < len(want)*9/10 {
					t.Fatalf("%s: %d of %d payloads, or not the published ones in order", server.name, len(got), len(want))
				}
				t.Logf("%s: %d/%d audio payloads byte-identical", server.name, len(got), len(want))
			}
		})
	}
}

// containsRun reports whether got is a contiguous run of want.
func containsRun(want, got [][]byte) bool {
	if len(got) == 0 {
		return false
	}
	for start := 0; start+len(got) <= len(want); start++ {
		ok := true
		for i := range got {
			if !bytes.Equal(want[start+i], got[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
