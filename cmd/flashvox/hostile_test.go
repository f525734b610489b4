package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TestHalfSentMessagesBeforeConnect: ten connections from one address park
// half-sent 1 MiB messages on 60 chunk streams each without ever sending
// connect. With the budget lifted the server grew by 745 MiB; with
// rtmp.preconnect_buffer it closes each connection at its first oversized
// header, its RSS stays flat, and a normal client connects afterwards.
func TestHalfSentMessagesBeforeConnect(t *testing.T) {
	s := startFlashvox(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(s.phoneURL, "rtmp://"), "/phone")
	before := testpeer.VmRSS(t, s.cmd.Process.Pid)

	// Set Chunk Size 64 KiB, then round after round one 64 KiB chunk on
	// each of 60 chunk streams, every message declaring 1 MiB and left one
	// chunk short of done.
	const size, chunk = 1 << 20, 1 << 16
	attack := []byte{0x02, 0, 0, 0, 0, 0, 4, message.TypeSetChunkSize, 0, 0, 0, 0, 0, chunk >> 16, 0, 0}
	body := make([]byte, chunk)
	var wg sync.WaitGroup
	closed := make(chan time.Duration, 10)
	for range 10 {
		wg.Go(func() {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := handshake.Client(nc, handshake.Options{Mode: handshake.Simple}); err != nil {
				t.Error(err)
				return
			}
			start := time.Now()
			if _, err := nc.Write(attack); err != nil {
				return
			}
		send:
			for round := range size/chunk - 1 {
				for i := range 60 {
					csid := byte(4 + i)
					hdr := []byte{0xC0 | csid} // type 3: the next chunk of the message
					if round == 0 {
						hdr = []byte{csid, 0, 0, 0, size >> 16 & 0xff, size >> 8 & 0xff, size & 0xff, message.TypeVideo, 1, 0, 0, 0}
					}
					if _, err := nc.Write(append(hdr, body...)); err != nil {
						break send
					}
				}
			}
			var b [1]byte
			for { // drain until the server closes
				if _, err := nc.Read(b[:]); err != nil {
					break
				}
			}
			closed <- time.Since(start)
		})
	}
	wg.Wait()
	close(closed)
	n := 0
	for d := range closed {
		n++
		if d > 10*time.Second {
			t.Errorf("an attacking connection stayed open %v", d)
		}
	}
	if n != 10 {
		t.Fatalf("%d of 10 attacking connections were closed by the server", n)
	}
	after := testpeer.VmRSS(t, s.cmd.Process.Pid)
	t.Logf("server VmRSS %d KiB before, %d KiB after 10 half-sending connections", before>>10, after>>10)
	if after-before > 32<<20 {
		t.Errorf("the server grew %d MiB", (after-before)>>20)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, "rtmp://"+addr+"/live", rtmp.ClientOptions{})
	if err != nil {
		t.Fatalf("a normal client after the attack: %v", err)
	}
	c.Close()
}

// TestIdleHTTPConnectionsCapped: 5 000 keep-alive connections from one
// address, each idle after one request (every one costs the server a
// descriptor for http's idle timeout), are held to
// http.max_connections_per_ip; the server's descriptors stay bounded, a
// user on another address signs in meanwhile, and an RTMP stream
// published before the flood keeps reaching a player during it.
func TestIdleHTTPConnectionsCapped(t *testing.T) {
	testpeer.SkipShort(t, "real peers (ffmpeg, rtmpdump)")
	testpeer.Require(t, "ffmpeg")
	testpeer.Require(t, "rtmpdump")
	s := startFlashvox(t)
	host := strings.TrimPrefix(strings.TrimSuffix(s.phoneURL, "/phone"), "rtmp://")
	testpeer.Start(t, 90*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", writeConfTone(t, 600, 16000, 60),
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+host+"/live/flood")
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(s.api, "http://"), "/api/v1")
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	kept := 0
	for range 5000 {
		c, err := net.Dial("tcp", httpAddr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			continue
		}
		if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			res.Body.Close()
			kept++ // answered, now an idle keep-alive
		}
	}
	during := fds()
	t.Logf("5000 keep-alives from one address: %d answered and kept, server descriptors %d before, %d during", kept, before, during)
	if kept > 256 || during-before > 260 {
		t.Errorf("kept %d connections, %d more descriptors; want at most http.max_connections_per_ip (256)", kept, during-before)
	}
	// The stream still flows to a new player while the flood holds its share.
	played := filepath.Join(t.TempDir(), "flood.flv")
	testpeer.Start(t, 30*time.Second, "rtmpdump", "-r", "rtmp://"+host+"/live/flood", "--live", "-o", played)
	testwait.For(t, 15*time.Second, "rtmpdump hears live/flood during the flood", func() bool { return flvAudio(played) > 10 })
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 5 * time.Second}
	res, err := client.Post(s.api+"/login", "application/json", strings.NewReader(`{"user":"alice","password":"alice"}`))
	if err != nil {
		t.Fatalf("login from another address during the flood: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login from another address during the flood: %d", res.StatusCode)
	}
}
