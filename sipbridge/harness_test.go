package sipbridge

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
)

// env is a whole flashvox on 127.0.0.1: hub, calls, the RTMP phone app and
// the SIP bridge.
type env struct {
	rtmpURL string
	calls   *call.Service
	hub     *media.Hub
	tc      *transcode.Service
	bridge  *Bridge
	// stop ends everything (once; the test's cleanup calls it too).
	stop func()
}

// testLogger logs to stderr when FLASHVOX_TEST_LOG is set; otherwise it
// keeps the log and prints its end if the test fails, so that a failure
// in CI says what the bridge and its libraries saw.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("FLASHVOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	logs := &teststack.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log (its end):\n%s", logs.Tail(8000))
		}
	})
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startEnv runs everything; edit adjusts the bridge options (trunks,
// timeouts) before it starts.
func startEnv(t *testing.T, edit func(*Options)) *env {
	t.Helper()
	return startEnvRing(t, 10*time.Second, edit)
}

// startEnvRing is startEnv with the call service's ring timeout.
func startEnvRing(t *testing.T, ring time.Duration, edit func(*Options)) *env {
	t.Helper()
	log := testLogger(t)
	hub := media.NewHub(256, log)
	tc := transcode.New(hub, log)
	users := map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}
	auth := account.NewAuth(account.AuthOptions{Users: users})
	o := Options{
		Listen:      "127.0.0.1:0",
		RTPTimeout:  5 * time.Second,
		DialPlan:    []Rule{{Match: regexp.MustCompile(`^\+?[0-9]{6,15}$`), Trunk: "upstream"}},
		Inbound:     []Inbound{{Number: "15550001", Target: "bob"}, {Number: "15550000", Target: EchoTarget}},
		Trunks:      []Trunk{trunk("127.0.0.1:9")},
		Credentials: passwordCredentials("flashvox", users),
		// sipp 3.6.1 reads only the first challenge and answers only MD5;
		// baresip 1.0 (libre) gives up on any SHA-256 challenge: MD5 only
		// (docs/config.md sip.digest_algorithms).
		DigestAlgorithms: []string{AlgMD5},
		Hub:              hub,
		Transcoder:       tc,
		Logger:           log,
	}
	var calls *call.Service
	o.Peers = func(gw *Bridge) Peers {
		calls = call.NewService(call.Options{RingTimeout: ring, Gateway: gw, Logger: log}, "alice", "bob", "carol")
		return Peers{Calls: calls}
	}
	if edit != nil {
		edit(&o)
	}
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	sessions := &session.Handler{Options: session.Options{Hub: hub, Transcoder: tc, MaxStreams: 8, Logger: log,
		Apps: map[string]session.App{phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: log}}}}
	srv := &rtmp.Server{
		MaxConns: 100, MaxConnsPerIP: 100, Logger: log,
		Handler: rtmp.HandlerFunc(func(ctx context.Context, c *rtmp.Conn) { sessions.Serve(ctx, c) }),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	stop := sync.OnceFunc(func() { cancel(); <-done; calls.Close(); b.Close() })
	t.Cleanup(stop)
	return &env{rtmpURL: "rtmp://" + ln.Addr().String() + "/phone", calls: calls, hub: hub, tc: tc, bridge: b, stop: stop}
}

// trunk is a Trunk at addr over UDP. Its calls come from 127.0.0.1 (where
// the tests' sipp plays the trunk); tests play an attacker from
// elsewhere on the loopback network (127.0.0.2).
func trunk(addr string) Trunk {
	return Trunk{Name: "upstream", Address: addr, Transport: "udp", InboundFrom: trunkSources}
}

var trunkSources = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// passwordCredentials is Credentials from plain passwords (name → password).
func passwordCredentials(realm string, users map[string]string) Credentials {
	return CredentialsFunc(func(user, alg string) (string, bool) {
		pw, ok := users[user]
		if !ok {
			return "", false
		}
		return passhash.HA1(alg, user, realm, pw)
	})
}
