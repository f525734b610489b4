package wire

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

var userDataCases = []UserData{
	{Flags: FragWhole, FlowID: 1, Seq: 1, FSNOffset: 1, Data: []byte("hello")},
	{Flags: FragBegin | DataOptions, FlowID: 2, Seq: 1, FSNOffset: 1, Metadata: []byte("TC\x04\x00") /* TC metadata, stream 0 */, Data: []byte{1, 2, 3}},
	{Flags: FragEnd | DataOptions, FlowID: 300, Seq: 70000, FSNOffset: 3, Metadata: []byte("TC\x04\x05") /* stream 5 */, ReturnFlow: 7, HasReturnFlow: true, Data: []byte{}},
	{Flags: DataFinal | DataAbandon, FlowID: 9, Seq: 4, FSNOffset: 0, Data: []byte{}},
}

func TestUserDataRoundTrip(t *testing.T) {
	for i, u := range userDataCases {
		b := u.AppendTo(nil, false)
		var v UserData
		if err := v.Unmarshal(b); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(u, v) {
			t.Errorf("case %d: got %+v, want %+v", i, v, u)
		}
		next := UserData{Flags: u.Flags, Metadata: u.Metadata, ReturnFlow: u.ReturnFlow, HasReturnFlow: u.HasReturnFlow, Data: u.Data}
		nb := next.AppendTo(nil, true)
		var w UserData
		if err := w.UnmarshalNext(nb, &v); err != nil || w.Seq != v.Seq+1 || w.FlowID != v.FlowID || !bytes.Equal(w.Data, u.Data) {
			t.Errorf("case %d: next %+v, %v", i, w, err)
		}
	}
	var v UserData
	for _, bad := range [][]byte{{}, {0x00, 0x01}, {0x00, 1, 1, 2}, {0x80, 1, 1, 1, 0x03, 0x00}} {
		if err := v.Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(%x) accepted", bad)
		}
	}
}

var ackCases = []Ack{
	{FlowID: 1, BufferBlocks: 64, Cumulative: 0},
	{FlowID: 2, BufferBlocks: 1, Cumulative: 10, Ranges: []SeqRange{{12, 12}, {15, 20}}},
	{FlowID: 1 << 40, BufferBlocks: 0, Cumulative: 1 << 30, Ranges: []SeqRange{{1<<30 + 2, 1<<30 + 100}}},
}

func TestAckRoundTrip(t *testing.T) {
	for i, a := range ackCases {
		var b Ack
		if err := b.Unmarshal(a.AppendTo(nil)); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(b.Ranges) == 0 {
			b.Ranges = nil
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("case %d: got %+v, want %+v", i, b, a)
		}
	}
	// Bitmap: cumulative 3; the first bit is 5 (cumulative+2): 5, 6 and 20.
	var b Ack
	if err := b.UnmarshalBitmap([]byte{1, 4, 3, 0x03, 0x80}); err != nil {
		t.Fatal(err)
	}
	if want := []SeqRange{{5, 6}, {20, 20}}; !reflect.DeepEqual(b.Ranges, want) {
		t.Errorf("bitmap ranges %v, want %v", b.Ranges, want)
	}
}

func TestHandshakeChunksRoundTrip(t *testing.T) {
	ih := IHello{EPD: AppendOption(nil, EPDAncillary, []byte("rtmfp://h/app")), Tag: bytes.Repeat([]byte{9}, 16)}
	var ih2 IHello
	if err := ih2.Unmarshal(ih.AppendTo(nil)); err != nil || !reflect.DeepEqual(ih, ih2) {
		t.Errorf("IHello %+v %v", ih2, err)
	}
	rh := RHello{Tag: []byte{1}, Cookie: []byte{2, 3}, Cert: []byte{4}}
	var rh2 RHello
	if err := rh2.Unmarshal(rh.AppendTo(nil)); err != nil || !reflect.DeepEqual(rh, rh2) {
		t.Errorf("RHello %+v %v", rh2, err)
	}
	ik := IIKeying{SessionID: 0x01020304, Cookie: []byte{1}, Cert: []byte{2, 2}, SKIC: []byte{3}, Signature: []byte("X")}
	var ik2 IIKeying
	if err := ik2.Unmarshal(ik.AppendTo(nil)); err != nil || !reflect.DeepEqual(ik, ik2) {
		t.Errorf("IIKeying %+v %v", ik2, err)
	}
	rk := RIKeying{SessionID: 7, SKRC: []byte{5, 6}, Signature: []byte("X")}
	var rk2 RIKeying
	if err := rk2.Unmarshal(rk.AppendTo(nil)); err != nil || !reflect.DeepEqual(rk, rk2) {
		t.Errorf("RIKeying %+v %v", rk2, err)
	}
	cc := CookieChange{Old: []byte{1, 2}, New: []byte{3}}
	var cc2 CookieChange
	if err := cc2.Unmarshal(cc.AppendTo(nil)); err != nil || !reflect.DeepEqual(cc, cc2) {
		t.Errorf("CookieChange %+v %v", cc2, err)
	}
}

func FuzzUserData(f *testing.F) {
	for _, u := range userDataCases {
		f.Add(u.AppendTo(nil, false))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var u UserData
		if err := u.Unmarshal(b); err != nil {
			return
		}
		var v UserData
		if err := v.Unmarshal(u.AppendTo(nil, false)); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if v.Seq != u.Seq || v.FlowID != u.FlowID || !bytes.Equal(v.Data, u.Data) || !bytes.Equal(v.Metadata, u.Metadata) {
			t.Fatalf("round trip %+v != %+v", v, u)
		}
	})
}

func FuzzAck(f *testing.F) {
	for _, a := range ackCases {
		f.Add(a.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Ack
		if err := a.Unmarshal(b); err != nil {
			return
		}
		if len(a.Ranges) > MaxAckRanges {
			t.Fatalf("%d ranges", len(a.Ranges))
		}
		var c Ack
		if err := c.Unmarshal(a.AppendTo(nil)); err != nil || c.Cumulative != a.Cumulative || len(c.Ranges) != len(a.Ranges) {
			t.Fatalf("round trip: %v", err)
		}
		_ = a.UnmarshalBitmap(b)
	})
}

func FuzzHandshakeChunks(f *testing.F) {
	f.Add((&IHello{EPD: []byte{1, 0x0a}, Tag: []byte{1}}).AppendTo(nil))
	f.Add((&IIKeying{SessionID: 1, Cookie: []byte{1}, Cert: NewIdentity(make([]byte, 64), false).Cert, SKIC: []byte{3}}).AppendTo(nil))
	f.Add((&RIKeying{SessionID: 1, SKRC: []byte{1}}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ih IHello
		if ih.Unmarshal(b) == nil {
			var e EPD
			_ = e.Unmarshal(ih.EPD)
		}
		var rh RHello
		if rh.Unmarshal(b) == nil {
			_, _ = ParsePeerCert(rh.Cert)
		}
		var ik IIKeying
		if ik.Unmarshal(b) == nil {
			if c, err := ParsePeerCert(ik.Cert); err == nil {
				_, _, _ = RespondKeying(ik.SKIC, c, Policy{})
			}
			var re IIKeying
			if err := re.Unmarshal(ik.AppendTo(nil)); err != nil || !bytes.Equal(re.SKIC, ik.SKIC) {
				t.Fatalf("IIKeying round trip: %v", err)
			}
		}
		var rk RIKeying
		_ = rk.Unmarshal(b)
		var cc CookieChange
		_ = cc.Unmarshal(b)
	})
}

func TestAddressEncoding(t *testing.T) {
	for _, c := range []struct {
		addr   string
		origin byte
		enc    []byte
	}{
		{"127.0.0.1:1935", OriginObserved, []byte{0x02, 127, 0, 0, 1, 0x07, 0x8f}},
		{"[::1]:5", OriginReported, append(append([]byte{0x81}, make([]byte, 15)...), 1, 0, 5)},
	} {
		ap := netip.MustParseAddrPort(c.addr)
		got := appendAddress(nil, ap, c.origin)
		if !bytes.Equal(got, c.enc) {
			t.Errorf("%s: %x, want %x", c.addr, got, c.enc)
		}
		back, origin, n, err := parseAddress(got)
		if err != nil || back != ap || origin != c.origin || n != len(got) {
			t.Errorf("%s: parsed %v %d %d %v", c.addr, back, origin, n, err)
		}
	}
	if _, _, _, err := parseAddress([]byte{0x80, 1, 2}); err == nil {
		t.Error("truncated IPv6 address accepted")
	}
}
