package flashclient

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flashvox/flashvox/internal/test/swf"
	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// flashPlayer103 is the SWF file version of Flash Player 10.3
// (haxe -swf-version 10.3 writes it).
const flashPlayer103 = 12

// TestSWF builds the softphone with haxe, as `make flash` does, and checks
// that the header declares Flash Player 10.3 or later and that the
// ActionScript constant pool holds the phone app's command and push names.
func TestSWF(t *testing.T) {
	haxe := testpeer.Require(t, "haxe")
	out := filepath.Join(t.TempDir(), "flashvox.swf")
	cmd := exec.Command(haxe, "build.hxml", "-swf", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("haxe build.hxml: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := swf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes, compressed %v, SWF version %d, %d tags", len(b), f.Compressed, f.Version, len(f.Tags))
	if f.Version < flashPlayer103 {
		t.Errorf("SWF version %d, want >= %d (Flash Player 10.3)", f.Version, flashPlayer103)
	}
	strs, err := f.ABCStrings()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"invite", "accept", "reject", "bye", "sendDTMF", // commands
		"onIncomingCall", "onRinging", "onAccepted", "onRejected", "onCancelled", "onBye", "onPresence", "onDTMF", // pushes
		"fvConnect", "fvMedia", "flashvoxSWF", // the page bridge (web/static/flash.js)
	} {
		if !slices.Contains(strs, name) {
			t.Errorf("%q is not in the SWF's ABC constant pool", name)
		}
	}
}
