#!/usr/bin/env bash
# SIP load: sipp places calls with G.711 RTP (7.2 s each) to a flashvox
# number and reports sipp's figures beside flashvox's own (metrics) and
# flashvox's CPU per call. Bounded: every process runs under a time limit
# and is stopped by its PID.
#
#   bench/sip.sh [-r CPS] [-l MAX_CONCURRENT] [-m TOTAL] [-n NUMBER] [-d HOLD_MS] [-p stream|pcap]
#
# -p stream (default): bench/sip/uac_rtpstream.xml, PCMU offer, sipp's
# rtpstream sends 360 packets of 20 ms per call from one UDP socket per
# call. -p pcap: bench/sip/uac_pcap.xml, PCMA offer, sip-tester's
# g711a.pcap (236 packets of 30 ms) played by play_pcap_audio, which opens
# a raw IPPROTO_UDP socket per call: the kernel then copies every UDP
# packet on the host to each of them, so its cost (charged to whichever
# process sends, flashvox included) grows with the square of the calls.
#
# -d HOLD_MS uses sipp's built-in uac instead (PCMU offer, no RTP, BYE
# after HOLD_MS): call set-up rate without media.
#
# NUMBER: 15550000 = echo (RTP sent back untouched),
#         15550002 = echo:nellymoser (PCMA → Nellymoser → PCMA through the
#         hub's transcoders: the media work of one SIP ↔ Flash call),
#         15550003 = echo:speex.
# PERF=FILE records flashvox with `perf record -g` into FILE during the run
# (`perf report -i FILE --no-children` reads it).
#
# Besides sipp's and flashvox's counters it reports where lost RTP went:
# the kernel's receive-buffer drops at flashvox's and at sipp's UDP sockets
# (bench/sip/poll.py samples /proc/net/udp), sipp's own CPU, and the load
# average (other jobs on the machine) before and after.
# Needs sipp (apt-get install -y sip-tester), python3 and Go.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
rate=10 limit=100 total=100 number=15550002 hold= player=stream
while getopts r:l:m:n:d:p: o; do
	case $o in
	r) rate=$OPTARG ;; l) limit=$OPTARG ;; m) total=$OPTARG ;; n) number=$OPTARG ;; d) hold=$OPTARG ;; p) player=$OPTARG ;;
	*) exit 2 ;;
	esac
done
command -v sipp >/dev/null || { echo "sipp is missing: apt-get install -y sip-tester" >&2; exit 1; }
pcaps=$(dirname "$(dpkg -L sip-tester | grep '/g711a.pcap$' | head -1)")
[ -f "$pcaps/g711a.pcap" ] || { echo "sip-tester's pcaps are missing: apt-get install -y sip-tester" >&2; exit 1; }
mkdir -p bin
go build -o bin/flashvox ./cmd/flashvox

work=$(mktemp -d)
free() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
sport=$(free) hport=$(free) uport=$(free)
cat >"$work/flashvox.yaml" <<Y
log: {level: warn}
rtmp: {listen: "127.0.0.1:0"}
http: {listen: "127.0.0.1:$hport"}
sip:
  listen: "127.0.0.1:$sport"
  rtp_ports: 20000-39999
  rtp_timeout: 10s
  inbound:
    - {number: "15550000", target: echo}
    - {number: "15550001", target: bob}
    - {number: "15550002", target: "echo:nellymoser"}
    - {number: "15550003", target: "echo:speex"}
Y
case $player in
pcap) sed "s#PCAPDIR#$pcaps#g" bench/sip/uac_pcap.xml >"$work/uac.xml" ;;
stream)
	command -v ffmpeg >/dev/null || { echo "ffmpeg is missing: apt-get install -y ffmpeg" >&2; exit 1; }
	# 7.2 s of a 500 Hz tone as raw mu-law: rtpstream's PCMU input.
	ffmpeg -hide_banner -loglevel error -f lavfi -i "sine=frequency=500:duration=7.2" -ar 8000 -ac 1 -f mulaw "$work/tone.ulaw"
	sed "s#AUDIOFILE#$work/tone.ulaw#g" bench/sip/uac_rtpstream.xml >"$work/uac.xml" ;;
*) echo "-p must be stream or pcap" >&2; exit 2 ;;
esac

timeout 900 bin/flashvox run --config "$work/flashvox.yaml" 2>"$work/flashvox.log" &
fv=$!
trap 'kill $fv 2>/dev/null || true; [ -n "${poll:-}" ] && kill $poll 2>/dev/null || true; [ -n "${perfpid:-}" ] && kill -INT $perfpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$hport/metrics" >/dev/null && break; sleep 0.1; done

fvpid=$(pgrep -P "$fv" -n) # flashvox itself, the child of its timeout
cpu() { awk '{print $14+$15}' "/proc/$fvpid/stat"; } # clock ticks, user+system
metric() { curl -sf "http://127.0.0.1:$hport/metrics" | awk -v m="$1" '$1==m {print $2}'; }
python3 bench/sip/poll.py "http://127.0.0.1:$hport/metrics" "$fvpid" "$work/sipp.pid" "$sport" >"$work/poll.json" &
poll=$!
perfpid=
if [ -n "${PERF:-}" ]; then
	perf record -q -F 499 -g -o "$PERF" -p "$fvpid" 2>"$work/perf.log" &
	perfpid=$!
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)

t0=$(date +%s.%N) c0=$(cpu)
set +e
scenario=(-sf "$work/uac.xml") calllen=7.2
[ -n "$hold" ] && scenario=(-sn uac -d "$hold") calllen=$(echo "$hold / 1000" | bc -l) player="built-in uac, no RTP"
sipp "127.0.0.1:$sport" "${scenario[@]}" -s "$number" -i 127.0.0.1 -p "$uport" \
	-mi 127.0.0.1 -mp "$(free)" -r "$rate" -l "$limit" -m "$total" \
	-nostdin -trace_stat -stf "$work/stat.csv" -fd 1 >"$work/sipp.out" 2>&1 &
sipp=$!
echo "$sipp" >"$work/sipp.pid"
# Bounded like a timeout(1), but sipp stays our child so that poll.py can
# read its CPU from /proc/PID/stat.
( sleep $((total / rate + 120)); kill "$sipp" 2>/dev/null ) &
guard=$!
wait "$sipp"
rc=$?
kill "$guard" 2>/dev/null || true
set -e
t1=$(date +%s.%N) c1=$(cpu)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "$perfpid" ]; then kill -INT "$perfpid" 2>/dev/null || true; wait "$perfpid" || true; perfpid=""; fi
kill $poll 2>/dev/null || true; wait $poll 2>/dev/null || true; poll=""
hz=$(getconf CLK_TCK)

# sipp's last CSV line: the cumulative counters.
python3 - "$work/stat.csv" "$rc" "$t0" "$t1" "$c0" "$c1" "$hz" "$(cat "$work/poll.json")" \
	"$(metric flashvox_sip_call_attempts_total)" "$(metric flashvox_sip_rtp_packets_in_total)" \
	"$(metric flashvox_sip_rtp_packets_out_total)" "$(metric flashvox_sip_rtp_packets_lost_total)" \
	"$rate" "$limit" "$total" "$number" "$calllen" "$load0" "$load1" "$player" <<'PY'
import csv, json, sys
path, rc, t0, t1, c0, c1, hz, poll, att, rin, rout, lost, rate, limit, total, number, calllen, load0, load1, player = sys.argv[1:]
poll = json.loads(poll or "{}")
peak = poll.get("peak", 0)
rows = list(csv.DictReader(open(path), delimiter=';'))
last = rows[-1]
cur = max(int(r['CurrentCall']) for r in rows)
ok, failed = int(last['SuccessfulCall(C)']), int(last['FailedCall(C)'])
wall = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
# call-seconds held: successful calls × the scenario's length.
callsec = ok * float(calllen)
rateP = max(float(r['CallRate(P)']) for r in rows)
print(f"load: -r {rate} -l {limit} -m {total} to {number} ({player}); sipp exit {rc}")
print(f"sipp:     created {last['TotalCallCreated']}, successful {ok}, failed {failed} "
      f"({100*failed/max(ok+failed,1):.2f}%), peak concurrent {cur}, peak call rate {rateP:.1f}/s, wall {wall:.1f} s")
print(f"flashvox: attempts {float(att or 0):.0f}, peak active calls {peak}, RTP in {float(rin or 0):.0f} "
      f"out {float(rout or 0):.0f} lost {float(lost or 0):.0f}")
print(f"cpu:      {cpu:.1f} s over {wall:.1f} s = {100*cpu/wall:.0f}% of one core; "
      f"{1000*cpu/max(callsec,1):.1f} ms CPU per call-second, {100*cpu/max(callsec,1):.2f}% of a core per concurrent call, {1000*cpu/max(ok,1):.2f} ms CPU per call")
sc = poll.get("sipp_cpu_s", 0)
print(f"sipp cpu: {sc:.1f} s = {100*sc/wall:.0f}% of one core; UDP receive-buffer drops: flashvox RTP sockets "
      f"{poll.get('drops_flashvox_rtp', '?')}, flashvox SIP socket {poll.get('drops_flashvox_sip', '?')}, "
      f"sipp sockets {poll.get('drops_sipp', '?')} (sipp does not read the echo)")
print(f"load average (1/5/15 min) before {load0}, after {load1}; {__import__('os').cpu_count()} CPUs")
PY
echo "logs and CSV in $work"
