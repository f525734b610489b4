// flashvox page media: a call's audio over WebRTC (docs/PROTOCOL.md,
// "Call media in the page"). Between two pages the call tries a direct
// PeerConnection first (offer, answer and candidates through
// /api/v1/calls/{id}/signal) and falls back to the server when it is not
// connected within opts.p2pTimeout; otherwise, and after a fallback, the
// page publishes its issued stream with WHIP and plays the other party's
// with WHEP (two PeerConnections: the server's WHIP/WHEP endpoints stay
// the plain RFC 9725 ones every other client uses).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const page = window.flashvoxPage;
  // opts may be changed before a call (tests block the direct path with
  // icePolicy 'relay': no TURN server, so no candidate at all; and the
  // server-bound ones with serverPolicy 'relay': the built-in TURN only).
  // iceServers come from /page.json: the server's own STUN (webrtc.stun_listen)
  // and webrtc.ice_servers, the ones its WHIP/WHEP answers advertise, so a
  // page behind NAT has server-reflexive candidates from its first offer.
  const opts = { p2pTimeout: 4000, icePolicy: 'all', serverPolicy: 'all', iceServers: [] };
  const configured = fetch('/page.json').then((r) => r.json()).then((cfg) => {
    opts.iceServers = (cfg.iceServers || []).map((u) => ({ urls: u }));
  }).catch(() => {});
  // rtcConfig is every server-bound RTCPeerConnection's configuration:
  // the STUN servers of /page.json and, when the server runs TURN, its
  // TURN servers with the credentials an OPTIONS on url (a WHIP/WHEP URL
  // this user may use) carries in its Link headers (RFC 9725 §4.6): the
  // server gives TURN credentials only to those who may publish or play,
  // so /page.json, which anyone may read, has none.
  const rtcConfig = async (url) => {
    await configured;
    const turn = url ? await turnServers(url) : [];
    return { iceServers: opts.iceServers.concat(turn), iceTransportPolicy: opts.serverPolicy };
  };
  async function turnServers(url) {
    try {
      const r = await fetch(url, { method: 'OPTIONS', headers: { Authorization: 'Bearer ' + token() } });
      return parseTURNLinks(r.headers.get('Link') || '');
    } catch (err) {
      return [];
    }
  }
  // parseTURNLinks reads the turn:/turns: servers of a Link header value
  // (the values of several headers joined by commas).
  function parseTURNLinks(link) {
    const out = [];
    for (const part of link.split(/,\s*(?=<)/)) {
      const m = part.match(/^\s*<(turns?:[^>]+)>(.*)$/);
      if (!m) continue;
      const param = (k) => (m[2].match(new RegExp(';\\s*' + k + '="([^"]*)"')) || [])[1];
      const username = param('username');
      const credential = param('credential');
      if (username && credential) out.push({ urls: m[1], username, credential });
    }
    return out;
  }
  let cur = null; // the call whose media runs now
  let actx = null;
  let ring = null;
  const token = () => page.state().token;

  async function api(path, body) {
    const r = await fetch(path, {
      method: 'POST', body: JSON.stringify(body),
      headers: { Authorization: 'Bearer ' + token(), 'Content-Type': 'application/json' },
    });
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  }
  function audioContext() {
    if (!actx) actx = new AudioContext();
    actx.resume().catch(() => {});
    return actx;
  }
  function analyser(stream) {
    const a = audioContext().createAnalyser();
    a.fftSize = 8192;
    actx.createMediaStreamSource(stream).connect(a);
    return a;
  }

  // ---- microphone and devices ----
  async function listMics() {
    const sel = $('mic-select');
    const devs = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    const keep = sel.value;
    sel.textContent = '';
    sel.append(new Option('default microphone', ''));
    devs.filter((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default')
      .forEach((d, i) => sel.append(new Option(d.label || 'microphone ' + (i + 1), d.deviceId)));
    sel.value = keep;
  }
  async function openMic() {
    const id = $('mic-select').value;
    const audio = { echoCancellation: true, noiseSuppression: true };
    if (id) audio.deviceId = { exact: id };
    return navigator.mediaDevices.getUserMedia({ audio });
  }
  async function switchMic() {
    const s = cur;
    if (!s || !s.mic) return;
    const mic = await openMic();
    if (cur !== s) { mic.getTracks().forEach((t) => t.stop()); return; }
    const track = mic.getAudioTracks()[0];
    track.enabled = !s.muted;
    for (const pc of pcs(s)) {
      for (const snd of pc.getSenders()) if (snd.track) await snd.replaceTrack(track);
    }
    s.mic.getTracks().forEach((t) => t.stop());
    s.mic = mic;
    s.level = analyser(mic);
  }

  // ---- the call's media ----
  const pcs = (s) => [s.p2p, s.pubPC, s.playPC].filter(Boolean);
  async function start(e, st) {
    const s = { id: e.call, publish: e.publish, play: e.play, caller: e.from === st.user, mode: '',
      queue: Promise.resolve(), pending: [], early: [], relayNow: false, muted: false, stats: {} };
    cur = s;
    show(s);
    try {
      s.mic = await openMic();
      listMics();
      if (cur !== s) { s.mic.getTracks().forEach((t) => t.stop()); return; }
      s.level = analyser(s.mic);
      const loop = () => {
        if (cur !== s) return;
        tick(s).catch(() => {}).finally(() => { s.tick = setTimeout(loop, 250); });
      };
      loop();
      // While the user was allowing the microphone the other page may
      // have offered (s.early) or already given up on the direct path.
      if (e.mode === 'p2p' && !s.relayNow) await startP2P(s);
      else await startRelay(s);
    } catch (err) {
      if (cur === s) status(s, 'no audio: ' + err.message, true);
    }
  }
  function stop() {
    const s = cur;
    cur = null;
    if (!s) return;
    clearTimeout(s.fallback);
    clearTimeout(s.tick);
    release(s);
    if (s.mic) s.mic.getTracks().forEach((t) => t.stop());
    $('remote-audio').srcObject = null;
    $('media').hidden = true;
  }
  // release closes s's PeerConnections and ends its server sessions (the
  // Location URLs are their capabilities); a relay set-up still under way
  // when the call ended calls it again once its sessions exist.
  function release(s) {
    pcs(s).forEach((pc) => pc.close());
    for (const loc of [s.pubLoc, s.playLoc]) {
      if (loc) fetch(loc, { method: 'DELETE', keepalive: true }).catch(() => {});
    }
    s.pubLoc = s.playLoc = null;
  }

  function hear(s, stream) {
    if (cur !== s) return;
    const el = $('remote-audio');
    el.srcObject = stream; // Chromium feeds WebAudio silence unless a media element plays the stream too
    el.volume = Number($('volume').value);
    el.play().catch(() => {});
    s.heard = analyser(stream);
  }

  // startP2P opens the direct PeerConnection; the caller offers.
  async function startP2P(s) {
    await configured; // before mode: signals that come meanwhile wait in s.early
    s.mode = 'p2p?';
    const pc = new RTCPeerConnection({ iceServers: opts.iceServers, iceTransportPolicy: opts.icePolicy });
    s.p2p = pc;
    s.mic.getAudioTracks().forEach((t) => pc.addTrack(t, s.mic));
    pc.ontrack = (ev) => hear(s, ev.streams[0] || new MediaStream([ev.track]));
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) send(s, { type: 'candidate', candidate: ev.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (cur !== s || s.p2p !== pc) return;
      if (pc.connectionState === 'connected' && s.mode !== 'p2p') {
        s.mode = 'p2p';
        clearTimeout(s.fallback);
        api('/api/v1/calls/' + s.id + '/media', { mode: 'p2p' }).catch(() => {});
        render(s);
      } else if (pc.connectionState === 'failed') {
        fallback(s);
      }
    };
    s.fallback = setTimeout(() => fallback(s), opts.p2pTimeout);
    render(s);
    for (const msg of s.early.splice(0)) onSignal(s, msg);
    if (s.caller) {
      await pc.setLocalDescription();
      send(s, { type: 'offer', sdp: pc.localDescription.sdp });
    }
  }
  function send(s, msg) {
    api('/api/v1/calls/' + s.id + '/signal', msg).catch(() => {}); // a lost signal ends in the fallback
  }
  // onSignal applies the other page's offer, answer or candidate, in order.
  function onSignal(s, msg) {
    if (!s.p2p && !s.mode) { s.early.push(msg); return; } // before startP2P: kept for it
    s.queue = s.queue.then(async () => {
      const pc = s.p2p;
      if (!pc || cur !== s) return;
      if (msg.type === 'offer' || msg.type === 'answer') {
        await pc.setRemoteDescription({ type: msg.type, sdp: msg.sdp });
        if (msg.type === 'offer') {
          await pc.setLocalDescription();
          send(s, { type: 'answer', sdp: pc.localDescription.sdp });
        }
        for (const c of s.pending.splice(0)) await pc.addIceCandidate(c);
      } else if (msg.type === 'candidate') {
        if (pc.remoteDescription) await pc.addIceCandidate(msg.candidate);
        else s.pending.push(msg.candidate);
      }
    }).catch(() => {});
  }
  // fallback leaves the direct attempt for the server: told by this page
  // (timeout, failure) or by the server's media event (the other page).
  function fallback(s) {
    if (cur === s && !s.mode) s.relayNow = true; // told before the microphone was open: start() relays
    if (cur !== s || s.mode === 'relay' || !s.mic || !s.mode) return;
    clearTimeout(s.fallback);
    if (s.p2p) { s.p2p.close(); s.p2p = null; }
    api('/api/v1/calls/' + s.id + '/media', { mode: 'relay' }).catch(() => {});
    startRelay(s).catch((err) => status(s, 'relay failed: ' + err.message, true));
  }

  async function startRelay(s) {
    s.mode = 'relay';
    render(s);
    const cfg = await rtcConfig('/phone/' + encodeURIComponent(s.play) + '/whep');
    const pub = new RTCPeerConnection(cfg);
    s.pubPC = pub;
    const play = new RTCPeerConnection(cfg);
    s.playPC = play;
    play.addTransceiver('audio', { direction: 'recvonly' });
    play.ontrack = (ev) => hear(s, ev.streams[0] || new MediaStream([ev.track]));
    // WHEP first: the server plays the other party in its own codec when
    // this page offers it (a SIP leg's G.711 or G.722); the page then
    // publishes in that codec too, so neither direction is transcoded.
    s.playLoc = await whip(play, '/phone/' + encodeURIComponent(s.play) + '/whep');
    if (cur !== s) { release(s); return; }
    const heard = answerCodec(play.remoteDescription.sdp);
    s.codec = heard;
    s.mic.getAudioTracks().forEach((t) => {
      const tr = pub.addTransceiver(t, { direction: 'sendonly' });
      if (heard !== 'opus') prefer(tr, heard);
    });
    s.pubLoc = await whip(pub, '/phone/' + encodeURIComponent(s.publish) + '/whip');
    if (cur !== s) release(s);
  }
  // answerCodec is the codec of an answer (lower case): the server's
  // answers have one, besides telephone-event.
  function answerCodec(sdp) {
    for (const m of sdp.matchAll(/^a=rtpmap:\d+ ([^/\s]+)\//gm)) {
      const name = m[1].toLowerCase();
      if (name !== 'telephone-event') return name;
    }
    return '';
  }
  // prefer makes a transceiver offer only codec name (and
  // telephone-event), where the browser has it.
  function prefer(tr, name) {
    const caps = window.RTCRtpSender && RTCRtpSender.getCapabilities && RTCRtpSender.getCapabilities('audio');
    if (!caps || !tr.setCodecPreferences) return;
    const is = (c, n) => c.mimeType.toLowerCase() === 'audio/' + n;
    const want = caps.codecs.filter((c) => is(c, name));
    if (want.length) tr.setCodecPreferences(want.concat(caps.codecs.filter((c) => is(c, 'telephone-event'))));
  }

  // whip posts pc's offer (WHIP or WHEP: the same exchange) once its
  // candidates are gathered, and applies the answer.
  async function whip(pc, url) {
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((res) => {
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res());
        setTimeout(res, 2000);
      });
    }
    const r = await fetch(url, {
      method: 'POST', body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer ' + token() },
    });
    const text = await r.text();
    if (r.status !== 201) throw new Error(url.split('/').pop() + ' ' + r.status + ' ' + text.trim());
    await pc.setRemoteDescription({ type: 'answer', sdp: text });
    return r.headers.get('Location');
  }

  // ---- meters, quality ----
  function rms(a) {
    const d = new Float32Array(a.fftSize);
    a.getFloatTimeDomainData(d);
    let sum = 0;
    for (const v of d) sum += v * v;
    return Math.sqrt(sum / d.length);
  }
  // dominant is the strongest frequency an analyser hears, 0 for silence.
  function dominant(a) {
    if (!a) return 0;
    const d = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(d);
    let best = 2;
    for (let i = 2; i < d.length; i++) if (d[i] > d[best]) best = i;
    return d[best] < -80 ? 0 : best * actx.sampleRate / a.fftSize;
  }
  async function tick(s) {
    if (cur !== s) return;
    // The meter shows -60..0 dBFS, as a voice meter does: quiet speech still moves it.
    const db = 20 * Math.log10(rms(s.level) || 1e-6);
    $('mic-level').value = s.muted ? 0 : Math.max(0, Math.min(1, (db + 60) / 60));
    if ((s.ticks = (s.ticks || 0) + 1) % 4) return;
    // remote-inbound-rtp is what the far end's RTCP receiver reports
    // say of the audio this page sends (the server's too, both engines).
    const q = { lost: 0, received: 0, jitter: 0, rtt: NaN, sentLost: 0, sent: 0, reports: 0 };
    for (const pc of pcs(s)) {
      const rep = await pc.getStats().catch(() => null);
      if (!rep) continue;
      rep.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          q.lost += r.packetsLost || 0;
          q.received += r.packetsReceived || 0;
          q.jitter = Math.max(q.jitter, r.jitter || 0);
        }
        if (r.type === 'outbound-rtp' && r.kind === 'audio') q.sent += r.packetsSent || 0;
        if (r.type === 'remote-inbound-rtp' && r.kind === 'audio') {
          q.sentLost += r.packetsLost || 0;
          q.reports += 1;
        }
        if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) {
          q.rtt = isNaN(q.rtt) ? r.currentRoundTripTime : Math.max(q.rtt, r.currentRoundTripTime);
        }
      });
    }
    if (cur !== s) return;
    s.stats = q;
    render(s);
  }
  function render(s) {
    const q = s.stats;
    const mode = { 'p2p?': 'connecting directly…', p2p: 'direct (p2p)', relay: 'through the server' }[s.mode] || '';
    $('media-mode').textContent = mode;
    $('media-mode').dataset.mode = s.mode;
    if (q.received !== undefined) {
      const loss = q.lost + q.received > 0 ? (100 * q.lost / (q.lost + q.received)).toFixed(1) : '0.0';
      const out = q.reports && q.sent > 0 ? ' · sent lost ' + (100 * Math.max(0, q.sentLost) / q.sent).toFixed(1) + ' %' : '';
      $('call-quality').textContent = 'loss ' + loss + ' % · jitter ' + Math.round(q.jitter * 1000) + ' ms · RTT ' +
        (isNaN(q.rtt) ? '–' : Math.round(q.rtt * 1000) + ' ms') + out;
    }
  }
  function status(s, text, bad) {
    $('call-quality').textContent = text;
    $('call-quality').className = bad ? 'error' : 'hint';
  }
  function show(s) {
    $('media').hidden = false;
    $('mute').textContent = 'Mute';
    $('call-quality').textContent = '';
    $('call-quality').className = 'hint';
    render(s);
  }

  // ---- ring tone: 440 + 480 Hz, 2 s on, 4 s off, made here ----
  function ringing(on) {
    if (on === !!ring) return;
    if (!on) { ring.stop(); ring = null; return; }
    const ctx = audioContext();
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const osc = [440, 480].map((f) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    const cadence = () => {
      const t = ctx.currentTime;
      gain.gain.setValueAtTime(0.08, t);
      gain.gain.setValueAtTime(0, t + 2);
    };
    cadence();
    const timer = setInterval(cadence, 6000);
    ring = { stop: () => { clearInterval(timer); osc.forEach((o) => o.stop()); gain.disconnect(); } };
  }

  // ---- events from the page ----
  page.onEvent((e, st) => {
    const c = st.call;
    ringing(!!c && c.state === 'incoming');
    if (cur && (!c || c.id !== cur.id)) stop();
    switch (e.type) {
      case 'accepted':
        if (c && c.id === e.call && c.state === 'active' && !cur) start(e, st);
        break;
      case 'media':
        if (cur && cur.id === e.call && e.mode === 'relay') fallback(cur);
        break;
      case 'signal':
        if (cur && cur.id === e.call) {
          try { onSignal(cur, JSON.parse(e.signal)); } catch (err) { /* a malformed signal: the timeout falls back */ }
        }
        break;
    }
  });

  function init() {
    $('mute').addEventListener('click', () => {
      if (!cur || !cur.mic) return;
      cur.muted = !cur.muted;
      cur.mic.getAudioTracks().forEach((t) => { t.enabled = !cur.muted; });
      $('mute').textContent = cur.muted ? 'Unmute' : 'Mute';
    });
    $('volume').addEventListener('input', (e) => { $('remote-audio').volume = Number(e.target.value); });
    $('mic-select').addEventListener('change', () => switchMic().catch(() => {}));
    // In-band DTMF (RFC 4733) where the connection negotiated it; the
    // keypad's API request (app.js) tells the other party in any case.
    $('dtmf').addEventListener('click', (e) => {
      const d = e.target.textContent;
      if (!cur || e.target.tagName !== 'BUTTON') return;
      for (const pc of [cur.p2p, cur.pubPC].filter(Boolean)) {
        for (const snd of pc.getSenders()) {
          if (snd.dtmf && snd.dtmf.canInsertDTMF) snd.dtmf.insertDTMF(d, 100, 70);
        }
      }
    });
    window.addEventListener('pagehide', stop);
    listMics();
  }

  // The page's media state, for tests and sites embedding the page; lib
  // is shared with conf.js (a room's audio).
  window.flashvoxMedia = {
    opts,
    lib: { openMic, analyser, audioContext, whip, rtcConfig, dominant, listMics },
    state: () => cur && { call: cur.id, mode: cur.mode, muted: cur.muted, stats: cur.stats, codec: cur.codec || '',
      heardHz: dominant(cur.heard), micHz: dominant(cur.level) },
    ringing: () => !!ring,
  };
  init();
})();
