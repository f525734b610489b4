package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownTellsParties: SIGTERM ends an answered call with reason
// shutdown, and both parties hear it before the server closes their
// connections: alice a headless phone (RTMP push), bob a page-like HTTP
// client (long-poll). Closing the connections first would end it as gone.
func TestShutdownTellsParties(t *testing.T) {
	s := startFlashvox(t)
	bob := s.login(t, "bob")
	alice := s.phone(t, "alice", "call", "bob", "--duration", "30s")
	in := bob.expect("incoming", "", 5*time.Second)
	bob.do("POST", "/calls/"+in.Call+"/accept", "", nil)
	bob.expect("accepted", "", 2*time.Second)

	// Bob's long-poll is on the wire when the signal comes.
	type page struct {
		Events []apiEvent
	}
	sent, got := make(chan struct{}), make(chan page, 1)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/events?cursor=%d&wait=10s", s.api, bob.cursor), nil)
	req.Header.Set("Authorization", "Bearer "+bob.token)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { close(sent) },
	}))
	go func() {
		var p page
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&p)
			res.Body.Close()
		}
		got <- p
	}()
	<-sent
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var bye *apiEvent
	for _, e := range (<-got).Events {
		if e.Type == "bye" {
			bye = &e
		}
	}
	if bye == nil || bye.Reason != "shutdown" {
		t.Errorf("bob (HTTP long-poll) heard %+v, want bye/shutdown", bye)
	}
	_, out := alice.wait(t, 10*time.Second)
	if !strings.Contains(out, "bye: shutdown") {
		t.Errorf("alice (RTMP) output %q, want the call ended by shutdown", out)
	}
}
