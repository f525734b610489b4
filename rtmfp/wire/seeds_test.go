package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteFuzzSeeds writes the seed corpus of every fuzz target into
// testdata/fuzz from the same tables the encode/decode tests use. It runs
// only with FLASHVOX_WRITE_SEEDS=1 (go test -run TestWriteFuzzSeeds).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("FLASHVOX_WRITE_SEEDS") != "1" {
		return
	}
	seeds := map[string][][]byte{}
	for _, c := range vluCases {
		seeds["FuzzVLU"] = append(seeds["FuzzVLU"], c.enc)
	}
	seeds["FuzzOptionList"] = optionListCases
	c := NewDefaultCrypto()
	for _, p := range packetCases {
		seeds["FuzzPacket"] = append(seeds["FuzzPacket"], p.AppendTo(nil))
		seeds["FuzzOpen"] = append(seeds["FuzzOpen"], c.Seal(nil, 0, p.AppendTo(nil)))
	}
	if d, err := os.ReadFile("testdata/ihello-tcconn.bin"); err == nil {
		seeds["FuzzOpen"] = append(seeds["FuzzOpen"], d)
	}
	for _, u := range userDataCases {
		seeds["FuzzUserData"] = append(seeds["FuzzUserData"], u.AppendTo(nil, false))
	}
	for _, a := range ackCases {
		seeds["FuzzAck"] = append(seeds["FuzzAck"], a.AppendTo(nil))
	}
	seeds["FuzzHandshakeChunks"] = [][]byte{
		(&IHello{EPD: AppendOption(nil, EPDAncillary, []byte("rtmfp://h/a")), Tag: make([]byte, 16)}).AppendTo(nil),
		(&IIKeying{SessionID: 1, Cookie: make([]byte, 65), Cert: NewIdentity(make([]byte, 64), false).Cert, SKIC: appendOptionVLU(nil, keyGroupSelect, 2)}).AppendTo(nil),
		(&RIKeying{SessionID: 1, SKRC: []byte{1}, Signature: []byte("X")}).AppendTo(nil),
	}
	for _, r := range redirectCases {
		seeds["FuzzRedirect"] = append(seeds["FuzzRedirect"], r.AppendTo(nil))
	}
	for _, h := range fiHelloCases {
		seeds["FuzzFIHello"] = append(seeds["FuzzFIHello"], h.AppendTo(nil))
	}
	for name, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range list {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
