// Command clusterscale is the scaling benchmark of issue 23: the same
// relay load against one flashvox node pinned to one core (taskset -c 0)
// and against two nodes of a cluster pinned to one core each (taskset -c
// 0 and -c 1, embedded NATS routed over loopback), the load spread across
// both: stream i is published on node i%2 and its subscriber j plays it
// from node (i+j)%2, so half of the deliveries cross nodes (relayed once
// per stream and node over NATS).
//
// The load is N publishers of Nellymoser-sized audio (65-byte FLV audio
// bodies every 16 ms, the send time and a sequence number inside) and S
// subscribers per stream. A frame counts as delivered when it arrives
// within -late (200 ms) of its sending; loss is 1 − delivered/owed over
// the measurement window. For each setup the capacity is the largest N
// whose loss stays within -loss (1 %). The load generator runs unpinned
// beside the nodes (the machine has 2 cores: it competes with them, more
// in the two-node setup), so the ratio is a lower bound on this machine.
// Every run is bounded: -duration per level (at most 60 s), -timeout in all.
//
// -readers picks the subscribers. client (the default) is an rtmp.Client
// each, a goroutine blocked on read: one netpoll wake-up, one read and a
// message allocation per frame per subscriber, which costs the generator
// about as much CPU as the nodes and starves the two-node setup on 2
// cores. poll is lean: each subscriber sets up as a player does
// (handshake, connect, createStream, play, over its own socket), then the
// socket leaves Go's netpoller (a duplicate descriptor is kept, the
// net.Conn closed) and one goroutine reads every socket without blocking
// each -poll (50 ms), parsing the chunk stream incrementally (chunkParser)
// and answering what the server asks of a player (Acknowledgements after
// its window, PingRequests). The server still writes each frame to each
// subscriber's socket, but no thread waits on those sockets, so its writes
// wake nobody: cheaper for the node than real players, whose reader it
// wakes; the kernel acknowledges the unread data on its delayed-ACK timer
// rather than at each read, which may cost the node more. Compare setups
// within one mode, not across modes. Latency then includes up to one
// poll interval (the p50 and p99 columns mostly measure that); a frame
// later than -late is still lost. A recv system call per socket per poll
// is most of the mode's cost: -poll 20ms costs about twice 50ms.
//
// -publishers batch drives every publisher from one goroutine that sends
// the frames due every 2 ms, instead of a goroutine and a ticker each
// (ticker, the default): one wake-up per tick instead of one per frame.
//
//	go build -o bin/flashvox ./cmd/flashvox
//	go run ./bench/clusterscale -streams 100,200,400 -subs 4 -duration 15s
//	go run ./bench/clusterscale -readers poll -publishers batch -streams 100,200,400 -subs 4 -duration 15s
//	go run ./bench/clusterscale -setups two -streams 200 -perf /tmp/cs   # perf record of the nodes: /tmp/cs-two-200.perf
//
// -quota F gives every node a CPU budget of F cores (0.1..1) besides its
// pinning: right after its start each node goes into a cgroup of its own
// (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us, over -period, 10 ms) that
// the benchmark removes once the node has exited. Root is needed; without
// usable cgroups the run fails at once rather than run unlimited. With
// budgets below a core the load generator keeps the rest of the two
// cores, so the capacity of two budgets against one is the scaling
// figure, which the generator no longer bounds. Each row then gives the
// nodes' throttled time over the window (cpu.stat), which shows that the
// quota was what bound them.
//
//	go run ./bench/clusterscale -quota 0.4 -streams 50,100,150,200 -subs 4 -duration 12s
//
// -repeat N runs each level N times, fresh nodes each time, and the
// capacity takes each level's median loss: a saturated node either keeps
// up for a whole 12 s run or falls a round behind for the rest of it, so
// one run at a level near capacity lands near 0 or past 10 % loss by
// chance (BENCHMARKS.md "What a relaying node allocates"). Raise -timeout
// with it.
//
// Beside the nodes' CPU it reports their context switches per delivered
// frame (voluntary + involuntary, over every thread), which the other
// jobs on a shared machine inflate much less than CPU time, and the
// latency of the relayed deliveries apart (a node's own players are the
// rest). -keep leaves the nodes' logs.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

const (
	frameEvery = 16 * time.Millisecond
	frameSize  = 65
)

type options struct {
	bin        string
	streams    []int
	subs       int
	duration   time.Duration
	warmup     time.Duration
	late       time.Duration
	loss       float64
	setups     []string
	timeout    time.Duration
	local      bool          // -spread local: every subscriber on its publisher's node
	readers    string        // client or poll: the subscribers' kind
	poll       time.Duration // -readers poll: the interval of the polls
	publishers string        // ticker or batch: how the publishers are driven
	perf       string        // "": no perf record of the nodes, else the files' prefix
	quota      float64       // -quota: the nodes' CPU budget in cores, 0 none
	period     time.Duration // -period: the quota's period
	keep       bool          // -keep: leave the work directory (the nodes' logs)
	repeat     int           // -repeat: runs of each level
	groups     *cpuGroups    // where the nodes' cgroups go; nil without -quota
}

func main() {
	var o options
	var streams, setups string
	flag.StringVar(&o.bin, "flashvox", "bin/flashvox", "flashvox binary")
	flag.StringVar(&streams, "streams", "50,100,200", "publishers per level, comma-separated")
	flag.IntVar(&o.subs, "subs", 4, "subscribers per stream")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "sending time per level, warm-up included (at most 60s)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "sending time before measuring")
	flag.DurationVar(&o.late, "late", 200*time.Millisecond, "a frame arriving later than this after its sending is lost")
	flag.Float64Var(&o.loss, "loss", 0.01, "loss budget for the capacity")
	flag.StringVar(&setups, "setups", "one,two", "setups to run: one (1 node, core 0), two (2 nodes, cores 0 and 1)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound of the whole run")
	spread := flag.String("spread", "cross", "two nodes: cross (subscriber j of stream i on node (i+j)%2: half the deliveries relayed) or local (every subscriber on its publisher's node: no relay)")
	flag.StringVar(&o.readers, "readers", "client", "subscribers: client (an rtmp.Client each, a goroutine blocked on read) or poll (lean: sockets outside the netpoller, read by one goroutine every -poll)")
	flag.StringVar(&o.publishers, "publishers", "ticker", "publishers: ticker (a goroutine and a ticker each) or batch (one goroutine sends every stream's due frames every 2ms)")
	flag.DurationVar(&o.poll, "poll", 50*time.Millisecond, "-readers poll: how often every socket is read (a recv per socket per poll: shorter costs more)")
	cpuProfile := flag.String("cpuprofile", "", "write the load generator's CPU profile here")
	flag.Float64Var(&o.quota, "quota", 0, "limit each node to this fraction of a core (0.1..1) with a cgroup of its own, over -period (needs root); 0: no limit")
	flag.IntVar(&o.repeat, "repeat", 1, "runs of each level (fresh nodes each): the capacity takes a level's median loss (one 12 s run at saturation lands near 0 or past 10 %)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory with the nodes' configurations and logs (its path goes to stderr)")
	flag.DurationVar(&o.period, "period", defaultPeriod, "-quota's period: a node over its quota waits up to period × (1 − quota) at a time; at least 1ms of quota per period")
	flag.StringVar(&o.perf, "perf", "", "record the nodes with perf record -g over each level's window into PREFIX-SETUP-STREAMS.perf (perf report -i FILE)")
	flag.Parse()
	for _, s := range strings.Split(streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n*max(o.subs, 1) > 20000 {
			fmt.Fprintln(os.Stderr, "clusterscale: -streams: positive counts, streams × subs ≤ 20000")
			os.Exit(2)
		}
		o.streams = append(o.streams, n)
	}
	o.setups = strings.Split(setups, ",")
	o.local = *spread == "local"
	if o.duration <= o.warmup || o.duration > time.Minute || o.subs < 1 || o.subs > 100 || o.repeat < 1 || o.repeat > 9 {
		fmt.Fprintln(os.Stderr, "clusterscale: -duration must exceed -warmup and be ≤ 60s; -subs 1..100; -repeat 1..9")
		os.Exit(2)
	}
	if (o.readers != "client" && o.readers != "poll") || (o.publishers != "ticker" && o.publishers != "batch") || o.poll < time.Millisecond || o.poll >= o.late {
		fmt.Fprintln(os.Stderr, "clusterscale: -readers client or poll; -publishers ticker or batch; -poll at least 1ms and below -late")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "clusterscale: -cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "clusterscale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, cleanup, err := proc.WorkDir("clusterscale-", o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	quotaHead, quotaCol, quotaRule := "", "", ""
	if o.quota != 0 {
		if o.groups, err = openCPUGroups("/sys/fs/cgroup", o.quota, o.period, os.Getpid()); err != nil {
			return err
		}
		quotaHead, quotaCol, quotaRule = ", "+o.groups.String(), " nodes' throttled ms |", "---|"
	}
	fmt.Printf("%d subscribers per stream, %v per level (%v warm-up), late > %v = lost, loss budget %.1f %%, local spread %v, readers %s, publishers %s%s\n\n",
		o.subs, o.duration, o.warmup, o.late, o.loss*100, o.local, o.readers, o.publishers, quotaHead)
	fmt.Println("| setup | streams | subscriber-streams | delivered | loss | p50 | p99 | nodes' CPU s/s | node CPU µs per delivered frame | node switches per delivered frame | load generator CPU s/s | load average | relayed p50 | relayed p99 |" + quotaCol)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + quotaRule)
	capacity := map[string]int{}
	perCPU := map[string][]float64{} // node CPU µs per delivered frame, levels within the budget
	var medians []string             // the levels' median losses, with -repeat
	for _, setup := range o.setups {
		for _, n := range o.streams {
			var losses []float64
			for range o.repeat {
				loss, err := levelRow(ctx, o, dir, setup, n, perCPU)
				if err != nil {
					return err
				}
				losses = append(losses, loss)
			}
			loss := median(losses)
			if o.repeat > 1 {
				medians = append(medians, fmt.Sprintf("%s %d: %.2f %%", setup, n, loss*100))
			}
			if loss <= o.loss && n > capacity[setup] {
				capacity[setup] = n
			}
		}
	}
	fmt.Println()
	if len(medians) > 0 {
		fmt.Printf("median loss of %d runs: %s\n", o.repeat, strings.Join(medians, "; "))
	}
	for _, s := range o.setups {
		fmt.Printf("capacity %s: %d streams × %d subscribers within %.1f %% loss\n", s, capacity[s], o.subs, o.loss*100)
	}
	if capacity["one"] > 0 && capacity["two"] > 0 {
		fmt.Printf("ratio two/one: %.2f (the levels tried bound it: a finer -streams list narrows it)\n", float64(capacity["two"])/float64(capacity["one"]))
	}
	// With the load generator on the same cores, the measured capacity is
	// the generator's as much as the nodes'; the CPU each delivered frame
	// costs the nodes is not: two cores at that cost carry 2 × one/two.
	one, two := median(perCPU["one"]), median(perCPU["two"])
	if one > 0 && two > 0 {
		fmt.Printf("node CPU per delivered frame: one %.2f µs, two %.2f µs (median of the levels within budget); two cores at that cost: %.2f × one core\n", one, two, 2*one/two)
	}
	return nil
}

// levelRow runs one level with fresh nodes, prints its row and answers
// its loss; the CPU per delivered frame of a run within the budget goes
// to perCPU.
func levelRow(ctx context.Context, o options, dir, setup string, n int, perCPU map[string][]float64) (float64, error) {
	r, err := level(ctx, o, dir, setup, n)
	if err != nil {
		return 0, fmt.Errorf("%s, %d streams: %w", setup, n, err)
	}
	loss := 1 - float64(r.delivered)/float64(max(r.owed, 1))
	perFrame := float64(r.cpu.Microseconds()) / float64(max(r.delivered, 1))
	d := float64(max(r.delivered, 1))
	throttled := ""
	if o.groups != nil {
		throttled = fmt.Sprintf(" %d |", r.throttled.Milliseconds())
	}
	fmt.Printf("| %s | %d | %d | %d of %d | %.2f %% | %v | %v | %.2f | %.2f | %.2f + %.2f | %.2f | %s | %s | %s |%s\n", setup, n, n*o.subs, r.delivered, r.owed, loss*100,
		r.quantile(0.5), r.quantile(0.99), r.cpu.Seconds()/r.window.Seconds(), perFrame,
		float64(r.switches.Voluntary)/d, float64(r.switches.Involuntary)/d, r.self.Seconds()/r.window.Seconds(), r.load,
		r.relQuantile(0.5), r.relQuantile(0.99), throttled)
	if loss <= o.loss {
		perCPU[setup] = append(perCPU[setup], perFrame)
	}
	return loss, nil
}

// defaultPeriod is the CPU bandwidth period of the nodes' cgroups
// (-period). Short (10 ms, the kernel's default is 100 ms) so that a node
// over its quota waits a few milliseconds at a time, not tens: a 100 ms
// period at 0.4 would stall it 60 ms, a whole late budget's third, in one
// go. A shorter one stalls it less at a time; it did not change what the
// relayed frames lost (BENCHMARKS.md "Relayed frames under a budget").
const defaultPeriod = 10 * time.Millisecond

// result is one level's measurement.
type result struct {
	owed, delivered uint64
	window, cpu     time.Duration
	switches        proc.Switches // the nodes' over the window
	self            time.Duration // the load generator's CPU over the window
	throttled       time.Duration // the nodes' time held back by -quota over the window
	load            string
	mu              sync.Mutex
	lat             []time.Duration // a sample of delivered frames' latency
	relLat          []time.Duration // the same of the relayed deliveries only
}

func (r *result) quantile(q float64) time.Duration { return r.quantileOf(&r.lat, q) }

// relQuantile is quantile of the relayed deliveries, or "—" without any.
func (r *result) relQuantile(q float64) string {
	if len(r.relLat) == 0 {
		return "—"
	}
	return r.quantileOf(&r.relLat, q).String()
}

func (r *result) quantileOf(lat *[]time.Duration, q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(*lat) == 0 {
		return 0
	}
	slices.Sort(*lat)
	return (*lat)[min(len(*lat)-1, int(q*float64(len(*lat))))].Round(100 * time.Microsecond)
}

// level runs n streams against a fresh setup, which it stops after.
func level(ctx context.Context, o options, dir, setup string, n int) (r *result, err error) {
	nodes, err := startNodes(ctx, o, dir, setup)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := stopAll(nodes); serr != nil {
			r, err = nil, errors.Join(err, serr)
		}
	}()
	return measure(ctx, o, nodes, setup, n)
}

// measure runs n streams against nodes.
func measure(ctx context.Context, o options, nodes []node, setup string, n int) (*result, error) {
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	r := &result{}
	base := time.Now()
	pubs := make([]*rtmp.Client, n)
	sids := make([]uint32, n)
	defer closeAll(pubs)
	for i := range pubs {
		c, err := rtmp.Dial(sctx, "rtmp://"+nodes[i%len(nodes)].rtmp+"/live", rtmp.ClientOptions{})
		if err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		pubs[i] = c
		if sids[i], err = c.CreateStream(sctx); err != nil {
			return nil, err
		}
		if err := c.Publish(sctx, sids[i], "s"+strconv.Itoa(i), "live"); err != nil {
			return nil, err
		}
	}
	w := &window{r: r, base: base, late: o.late}
	w.from.Store(1 << 62)
	closeSubs, err := subscribe(sctx, o, nodes, n, w)
	defer closeSubs()
	if err != nil {
		return nil, err
	}
	goAt := time.Now().Add(100 * time.Millisecond)
	winFrom, winTo := goAt.Add(o.warmup), goAt.Add(o.duration)
	w.from.Store(int64(winFrom.Sub(base)))
	w.to.Store(int64(winTo.Sub(base)))
	var sent atomic.Uint64
	var wg sync.WaitGroup
	if o.publishers == "batch" {
		wg.Go(func() { publishBatch(pubs, sids, goAt, winTo, base, w.from.Load(), &sent) })
	}
	for i, c := range pubs {
		if o.publishers == "batch" {
			break
		}
		offset := time.Duration(i) * frameEvery / time.Duration(n)
		wg.Go(func() { publish(c, sids[i], goAt.Add(offset), winTo, base, w.from.Load(), &sent) })
	}
	time.Sleep(time.Until(winFrom))
	var perfWait func() error
	if o.perf != "" {
		pctx, stop := context.WithDeadline(ctx, winTo)
		defer stop()
		var err error
		if perfWait, err = perfRecord(pctx, nodes, fmt.Sprintf("%s-%s-%d.perf", o.perf, setup, n)); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	cpu0, load0, sw0 := nodesCPU(nodes), proc.LoadAvg(), nodesSwitches(nodes)
	self0, _ := proc.SelfCPU()
	thr0, terr0 := nodesThrottled(nodes)
	time.Sleep(time.Until(winTo))
	cpu1, load1, sw1 := nodesCPU(nodes), proc.LoadAvg(), nodesSwitches(nodes)
	self1, _ := proc.SelfCPU()
	thr1, terr1 := nodesThrottled(nodes)
	r.self, r.switches, r.throttled = self1-self0, sw1.Sub(sw0), thr1-thr0
	if perfWait != nil {
		if err := perfWait(); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	wg.Wait()
	time.Sleep(o.late + 100*time.Millisecond) // the last frames' delivery bound
	r.owed = sent.Load() * uint64(o.subs)
	r.delivered = w.delivered.Load()
	r.window, r.cpu, r.load = winTo.Sub(winFrom), cpu1-cpu0, load0+" → "+load1
	if err := errors.Join(terr0, terr1); err != nil {
		return nil, err // a row that cannot show the quota's effect would mislead
	}
	return r, nil
}

func closeAll(cs []*rtmp.Client) {
	for _, c := range cs {
		if c != nil {
			_ = c.Close()
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// window is what subscribers count: frames sent in [from, to) (ns since
// base) that arrive within late.
type window struct {
	r                 *result
	base              time.Time
	late              time.Duration
	from, to          atomic.Int64
	delivered, sample atomic.Uint64
}

func (w *window) receive(m *message.Message, relayed bool) {
	if m.Type == message.TypeAudio {
		w.frame(m.Payload, relayed)
	}
}

// frame counts one received audio body, either mode's; relayed says it
// came through another node.
func (w *window) frame(p []byte, relayed bool) {
	if len(p) < 13 {
		return
	}
	now := int64(time.Since(w.base))
	sent := int64(binary.BigEndian.Uint64(p[1:]))
	if sent < w.from.Load() || sent >= w.to.Load() || time.Duration(now-sent) > w.late {
		return
	}
	w.delivered.Add(1)
	if w.sample.Add(1)%16 == 0 {
		w.r.mu.Lock()
		w.r.lat = append(w.r.lat, time.Duration(now-sent))
		if relayed {
			w.r.relLat = append(w.r.relLat, time.Duration(now-sent))
		}
		w.r.mu.Unlock()
	}
}

// subscribe connects o.subs players to each of the n streams: subscriber
// j of stream i on node (i+j)%2 (cross) or on the publisher's (local).
// The returned func closes them, also those made before an error.
func subscribe(ctx context.Context, o options, nodes []node, n int, w *window) (func(), error) {
	var subs []*rtmp.Client
	p := &poller{every: o.poll}
	closeSubs := func() {
		closeAll(subs)
		p.close()
	}
	for i := range n {
		for j := range o.subs {
			at := (i + j) % len(nodes)
			if o.local {
				at = i % len(nodes)
			}
			stream := "s" + strconv.Itoa(i)
			relayed := at != i%len(nodes)
			if o.readers == "poll" {
				s, err := dialPoll(ctx, nodes[at].rtmp, stream, w, relayed)
				if err != nil {
					return closeSubs, fmt.Errorf("subscriber %d/%d: %w", i, j, err)
				}
				p.subs = append(p.subs, s)
				continue
			}
			c, err := rtmp.Dial(ctx, "rtmp://"+nodes[at].rtmp+"/live", rtmp.ClientOptions{OnMessage: func(m *message.Message) { w.receive(m, relayed) }})
			if err != nil {
				return closeSubs, fmt.Errorf("subscriber %d/%d: %w", i, j, err)
			}
			subs = append(subs, c)
			sid, err := c.CreateStream(ctx)
			if err != nil {
				return closeSubs, err
			}
			if err := c.Play(ctx, sid, stream); err != nil {
				return closeSubs, err
			}
		}
	}
	if len(p.subs) > 0 {
		p.start()
	}
	return closeSubs, nil
}
