package amf

import (
	"bytes"
	"testing"
)

// Payloads captured from ffmpeg 5.1.9 (Debian 12, Lavf59.27.100) publishing
// to testdata/capture_ffmpeg.py:
//
//	ffmpeg -re -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=22050 \
//	  -t 3 -c:v flv -c:a nellymoser -ac 1 -f flv rtmp://127.0.0.1:19377/live/stream1
//
// Each file is the body of one command (type 20) or data (type 18) message.
var ffmpegCaptures = []struct {
	file  string
	check func(t *testing.T, v []any)
}{
	{"ffmpeg_connect.bin", func(t *testing.T, v []any) {
		wantHead(t, v, "connect", 1.0)
		o := v[2].(*Object)
		for k, want := range map[string]string{
			"app": "live", "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; Lavf59.27.100)",
			"tcUrl": "rtmp://127.0.0.1:19377/live",
		} {
			if got := o.GetString(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if o.Props[0].Key != "app" || o.Props[3].Key != "tcUrl" {
			t.Errorf("key order %v", o.Props)
		}
	}},
	{"ffmpeg_releaseStream.bin", func(t *testing.T, v []any) { wantHead(t, v, "releaseStream", 2.0, nil, "stream1") }},
	{"ffmpeg_FCPublish.bin", func(t *testing.T, v []any) { wantHead(t, v, "FCPublish", 3.0, nil, "stream1") }},
	{"ffmpeg_createStream.bin", func(t *testing.T, v []any) { wantHead(t, v, "createStream", 4.0, nil) }},
	{"ffmpeg_publish.bin", func(t *testing.T, v []any) { wantHead(t, v, "publish", 5.0, nil, "stream1", "live") }},
	{"ffmpeg_setDataFrame.bin", func(t *testing.T, v []any) {
		wantHead(t, v, "@setDataFrame", "onMetaData")
		md := v[2].(*ECMAArray)
		want := map[string]any{"width": 320.0, "height": 240.0, "framerate": 25.0, "audiosamplerate": 22050.0, "stereo": false, "encoder": "Lavf59.27.100"}
		for k, w := range want {
			if got, _ := md.Get(k); got != w {
				t.Errorf("%s = %#v, want %#v", k, got, w)
			}
		}
	}},
}

func wantHead(t *testing.T, v []any, head ...any) {
	t.Helper()
	if len(v) < len(head) {
		t.Fatalf("got %d values, want at least %d", len(v), len(head))
	}
	for i, h := range head {
		if v[i] != h {
			t.Errorf("value %d = %#v, want %#v", i, v[i], h)
		}
	}
}

func TestFFmpegCaptures(t *testing.T) {
	for _, c := range ffmpegCaptures {
		t.Run(c.file, func(t *testing.T) {
			in := readTestdata(t, c.file)
			v, err := Decode0(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			c.check(t, v)
			// Our encoder reproduces ffmpeg's bytes exactly.
			out, err := Encode0(nil, v...)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("re-encode differs:\n got % x\nwant % x", out, in)
			}
		})
	}
}

// connectCommand is the connect command a server-side client would build,
// the same shape as ffmpeg's.
func connectCommand() []any {
	return []any{"connect", 1.0, NewObject(
		"app", "live",
		"type", "nonprivate",
		"flashVer", "FMLE/3.0 (compatible; Lavf59.27.100)",
		"tcUrl", "rtmp://127.0.0.1:19377/live",
	)}
}

func TestEncodeConnectMatchesFFmpeg(t *testing.T) {
	out, err := Encode0(nil, connectCommand()...)
	if err != nil {
		t.Fatal(err)
	}
	if want := readTestdata(t, "ffmpeg_connect.bin"); !bytes.Equal(out, want) {
		t.Fatalf("got % x\nwant % x", out, want)
	}
}
