package amf

import "testing"

func BenchmarkDecodeConnect(b *testing.B) {
	in := readTestdata(b, "ffmpeg_connect.bin")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode0(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeConnect(b *testing.B) {
	cmd := connectCommand()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Encode0(buf[:0], cmd...); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeMetaData(b *testing.B) {
	in := readTestdata(b, "ffmpeg_setDataFrame.bin")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode0(in); err != nil {
			b.Fatal(err)
		}
	}
}
