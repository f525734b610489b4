package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/softphone"
)

const clientUsage = `usage: flashvox client [--server rtmp://127.0.0.1:1935/phone] --user U (--password P | --token T)
       call USER | call conf:ROOM | answer
       [--play IN.wav] [--record OUT.wav] [--duration 10s] [--codec speex|nellymoser] [--dtmf DIGITS] [--timeout 60s]
       [--server URL,URL…] [--cluster http://NODE/api/v1/cluster,…] [--failover N]
`

// clientRun is what the command line of `flashvox client` asks for.
type clientRun struct {
	verb, target, record string
	timeout              time.Duration
	opts                 softphone.Options
	failover             clientFailover // client_failover.go
}

// parseClient reads the command line; false after it printed why not.
func parseClient(args []string, stderr io.Writer) (*clientRun, bool) {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clientUsage); fs.PrintDefaults() }
	server := fs.String("server", "rtmp://127.0.0.1:1935/phone", "the phone application's URL (rtmp://, rtmps://, rtmpt://, rtmpe:// or rtmfp://); a comma-separated list: the next is tried when one is lost")
	clusterURLs := fs.String("cluster", "", "GET /api/v1/cluster URLs (comma-separated): their live nodes' RTMP URLs are tried too when the server is lost")
	failover := fs.Int("failover", 0, "attempts in all when servers are lost before a call is established (0: 1 for one server, 10 with a list or --cluster)")
	user := fs.String("user", "", "user name")
	password := fs.String("password", "", "password")
	token := fs.String("token", "", "token (instead of --password)")
	play := fs.String("play", "", "WAV file sent as the microphone, looped (default: silence)")
	record := fs.String("record", "", "write what the phone hears to this WAV file (16 kHz mono)")
	duration := fs.Duration("duration", 0, "hang up after this long (0: wait for the other side)")
	codecName := fs.String("codec", "speex", "codec to send and receive: speex or nellymoser")
	dtmf := fs.String("dtmf", "", "DTMF digits sent once the call is established")
	timeout := fs.Duration("timeout", 60*time.Second, "give up ringing or waiting for a call after this long")
	verbose := fs.Bool("v", false, "log protocol steps to stderr")
	p2p := fs.Bool("p2p", false, "rtmfp:// only: offer and accept peer-to-peer media, falling back to relay")
	p2pTimeout := fs.Duration("p2p-timeout", softphone.DefaultP2PTimeout, "with --p2p: how long to wait for the far peer's audio before falling back to relay")
	// Flags may come before and after the verb.
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	rest := fs.Args()
	if len(rest) == 0 || (rest[0] != "call" && rest[0] != "answer") || (rest[0] == "call" && len(rest) < 2) {
		fs.Usage()
		return nil, false
	}
	verb, target := rest[0], ""
	rest = rest[1:]
	if verb == "call" {
		target, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return nil, false
	}
	if fs.NArg() > 0 || *user == "" || (*password == "") == (*token == "") {
		fmt.Fprintln(stderr, "flashvox client: need --user and one of --password or --token")
		return nil, false
	}
	id, ok := codec.ParseID(*codecName)
	if !ok || (id != codec.Speex && id != codec.Nellymoser) {
		fmt.Fprintf(stderr, "flashvox client: --codec must be speex or nellymoser, got %q\n", *codecName)
		return nil, false
	}
	fo := clientFailover{servers: splitList(*server), cluster: splitList(*clusterURLs), attempts: *failover}
	if len(fo.servers) == 0 || fo.attempts < 0 || fo.attempts > 100 {
		fmt.Fprintln(stderr, "flashvox client: need a --server, and --failover 0..100")
		return nil, false
	}
	if fo.attempts == 0 {
		fo.attempts = 1
		if len(fo.servers) > 1 || len(fo.cluster) > 0 {
			fo.attempts = 10
		}
	}
	opts := softphone.Options{Server: fo.servers[0], User: *user, Secret: *password, Codec: id, Duration: *duration, DTMF: *dtmf, P2P: *p2p, P2PTimeout: *p2pTimeout}
	if *token != "" {
		opts.Secret = *token
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *play != "" {
		pcm, err := softphone.ReadWAV(*play)
		if err != nil {
			fmt.Fprintf(stderr, "flashvox client: --play: %v\n", err)
			return nil, false
		}
		opts.Mic = pcm
	}
	return &clientRun{verb: verb, target: target, record: *record, timeout: *timeout, opts: opts, failover: fo}, true
}

// runClient is the headless phone: exit 0 when the call was established and
// ended normally, 1 when it failed, 2 on a usage error. `call conf:ROOM`
// joins a conference room instead: it sends --play, records the mix (or the
// relayed streams, summed) and leaves after --duration, on SIGINT/SIGTERM,
// or when the room ends (exit 0); a kick is exit 1.
func runClient(args []string, stdout, stderr io.Writer) int {
	c, ok := parseClient(args, stderr)
	if !ok {
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var res *softphone.Result
	var err error
	verb := softphone.Answer
	if c.verb == "call" {
		verb = func(ctx context.Context, o softphone.Options) (*softphone.Result, error) {
			return softphone.Call(ctx, o, c.target)
		}
	}
	res, err = c.failover.run(ctx, withSetupTimeout(c.opts, c.timeout), verb)
	if res != nil && c.record != "" {
		if werr := softphone.WriteWAV(c.record, res.Heard); werr != nil {
			fmt.Fprintf(stderr, "flashvox client: --record: %v\n", werr)
			return exitFail
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "flashvox client: %v\n", err)
		return exitFail
	}
	end := ""
	if res.End != nil {
		end = res.End.GetString("reason") + " by " + res.End.GetString("by")
	}
	fmt.Fprintf(stdout, "call %s ended (%s), heard %.1f s", res.Call, end, float64(len(res.Heard))/softphone.SampleRate)
	if res.Digits != "" {
		fmt.Fprintf(stdout, ", DTMF %s", res.Digits)
	}
	if len(res.Holds) > 0 {
		fmt.Fprintf(stdout, ", holds: %s", strings.Join(res.Holds, ", "))
	}
	fmt.Fprintln(stdout)
	if res.Media != "" {
		fmt.Fprintf(stdout, "media: %s\n", res.Media)
	}
	return 0
}

// withSetupTimeout bounds ringing and waiting for a call (not the call itself).
func withSetupTimeout(o softphone.Options, d time.Duration) softphone.Options {
	o.SetupTimeout = d
	return o
}
