#!/usr/bin/env python3
"""Samples a bench run every 0.5 s until stopped (SIGTERM) and then prints
one JSON line: the peak of flashvox_sip_active_calls, and the kernel's UDP
receive-buffer drops (the "drops" column of /proc/net/udp, per socket)
summed over the sockets of flashvox and of sipp, and sipp's CPU time, so that lost RTP can be
told apart: dropped at flashvox's sockets, dropped at sipp's, or never
sent. A socket's count is its largest sample (sockets close when calls
end, so the last half second of a short-lived socket may be missed).

    poll.py METRICS_URL FLASHVOX_PID SIPP_PID_FILE SIP_PORT

flashvox's SIP socket (SIP_PORT) is counted apart from its RTP sockets.
"""
import json, os, signal, sys, time, urllib.request

url, fvpid, sippfile, sipport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
peak, drops, sipp_ticks, sip_drops = 0, {"flashvox": {}, "sipp": {}}, 0, 0
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def inodes(pid):
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                out.add(link[8:-1])
    except OSError:
        pass
    return out


def udp_drops():
    global sip_drops
    d = {}
    for f in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = open(f).read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            p = ln.split()
            if int(p[1].split(":")[1], 16) == sipport:
                sip_drops = max(sip_drops, int(p[-1]))
                continue
            d[p[9]] = int(p[-1])  # inode -> drops
    return d


while not stop:
    try:
        for ln in urllib.request.urlopen(url, timeout=2).read().decode().splitlines():
            if ln.startswith("flashvox_sip_active_calls "):
                peak = max(peak, int(float(ln.split()[1])))
    except Exception:
        pass
    sipp = open(sippfile).read().strip() if os.path.exists(sippfile) else ""
    if sipp:
        try:  # utime + stime, clock ticks: sipp's CPU until its last sample
            st = open(f"/proc/{sipp}/stat").read().rsplit(")", 1)[1].split()
            sipp_ticks = max(sipp_ticks, int(st[11]) + int(st[12]))
        except (OSError, IndexError, ValueError):
            pass
    all_drops = udp_drops()
    for who, pid in (("flashvox", fvpid), ("sipp", sipp)):
        if not pid:
            continue
        for ino in inodes(pid):
            if ino in all_drops:
                drops[who][ino] = max(drops[who].get(ino, 0), all_drops[ino])
    time.sleep(0.5)

print(json.dumps({"peak": peak, "drops_flashvox_rtp": sum(drops["flashvox"].values()), "drops_flashvox_sip": sip_drops,
                  "drops_sipp": sum(drops["sipp"].values()),
                  "sipp_cpu_s": sipp_ticks / os.sysconf("SC_CLK_TCK")}))
