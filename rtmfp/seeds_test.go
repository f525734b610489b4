package rtmfp

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// TestWriteFuzzSeeds writes the seed corpus of this package's fuzz targets
// into testdata/fuzz (package wire writes its own). It runs only with
// FLASHVOX_WRITE_SEEDS=1 (go test -run TestWriteFuzzSeeds).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("FLASHVOX_WRITE_SEEDS") != "1" {
		return
	}
	seeds := map[string][][]byte{}
	seeds["FuzzTCMetadata"] = [][]byte{tcMetadata(0), tcMetadata(1 << 20)}
	// FuzzServerDatagram starts from FuzzOpen's seeds: encrypted packets.
	c := wire.NewDefaultCrypto()
	for _, p := range packetSeeds {
		seeds["FuzzServerDatagram"] = append(seeds["FuzzServerDatagram"], c.Seal(nil, 0, p.AppendTo(nil)))
	}
	if d, err := os.ReadFile("wire/testdata/ihello-tcconn.bin"); err == nil {
		seeds["FuzzServerDatagram"] = append(seeds["FuzzServerDatagram"], d)
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
