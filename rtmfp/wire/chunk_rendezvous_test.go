package wire

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
)

var redirectCases = []Redirect{
	{Tag: []byte("0123456789abcdef")},
	{Tag: []byte("t"), Addrs: []Address{{netip.MustParseAddrPort("192.0.2.1:1935"), OriginObserved}, {netip.MustParseAddrPort("[2001:db8::1]:443"), OriginReported}}},
	{Tag: make([]byte, 16), Addrs: []Address{{netip.MustParseAddrPort("10.0.0.2:5000"), OriginRelay}}},
}

var fiHelloCases = []FIHello{
	{EPD: AppendOption(nil, epdFingerprint, make([]byte, 32)), Addr: netip.MustParseAddrPort("198.51.100.7:61000"), Tag: []byte("0123456789abcdef")},
	{EPD: []byte{}, Addr: netip.MustParseAddrPort("[2001:db8::2]:1"), Tag: nil},
}

func TestRendezvousChunksRoundTrip(t *testing.T) {
	for i, r := range redirectCases {
		var got Redirect
		if err := got.Unmarshal(r.AppendTo(nil)); err != nil || !bytes.Equal(got.Tag, r.Tag) || !slices.Equal(got.Addrs, r.Addrs) {
			t.Errorf("redirect %d: %+v %v, want %+v", i, got, err, r)
		}
	}
	for i, f := range fiHelloCases {
		var got FIHello
		if err := got.Unmarshal(f.AppendTo(nil)); err != nil || !bytes.Equal(got.EPD, f.EPD) || got.Addr != f.Addr || !bytes.Equal(got.Tag, f.Tag) {
			t.Errorf("fihello %d: %+v %v, want %+v", i, got, err, f)
		}
	}
	for _, b := range [][]byte{{}, {0x05, 1}, {0x01, 'x', 0x02, 1, 2}} {
		var r Redirect
		var f FIHello
		if r.Unmarshal(b) == nil && len(b) > 2 {
			t.Errorf("redirect %x accepted", b)
		}
		if f.Unmarshal(b) == nil {
			t.Errorf("fihello %x accepted", b)
		}
	}
}

func FuzzRedirect(f *testing.F) {
	for _, r := range redirectCases {
		f.Add(r.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Redirect
		if r.Unmarshal(b) != nil {
			return
		}
		var again Redirect
		if err := again.Unmarshal(r.AppendTo(nil)); err != nil || !slices.Equal(again.Addrs, r.Addrs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzFIHello(f *testing.F) {
	for _, h := range fiHelloCases {
		f.Add(h.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h FIHello
		if h.Unmarshal(b) != nil {
			return
		}
		var again FIHello
		if err := again.Unmarshal(h.AppendTo(nil)); err != nil || again.Addr != h.Addr || !bytes.Equal(again.Tag, h.Tag) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestIntroAddrsOrder: the observed address first, unless the initiator
// shares the target's public address (same NAT): then the private ones.
