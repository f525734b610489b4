// flashvox page conferences (docs/PROTOCOL.md, "Conference media in the
// page"): join a room over the HTTP API, publish the member's issued name
// with WHIP and play its mix (mixed rooms) or every other member's stream
// (relay rooms) with WHEP, list the members with a speaking indicator,
// and give moderators mute and kick buttons. Room events come through the
// page's event loop (app.js) as conf_* events.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const page = window.flashvoxPage;
  const lib = window.flashvoxMedia.lib;
  let cur = null; // the room this page is in
  let joining = false; // a join (the form's or a rejoin) on its way
  const enc = encodeURIComponent;

  const roomAPI = (c, path, body) => page.api('POST', '/api/v1/conferences/' + enc(c.room) + path, body || {});

  // enter joins room and starts its media: the form's join and the rejoin
  // after a move (below) are the same request, so the node checks the
  // PIN, the lock and the rest the same way. news is shown once in.
  async function enter(room, pin, news) {
    // Opus: the mix comes in the browser's codec, no transcoder between.
    const j = await page.api('POST', '/api/v1/conferences/' + enc(room) + '/join',
      { pin: pin || undefined, codec: 'opus' });
    const c = { room: j.room, pin, member: j.member, mode: j.mode, moderator: j.moderator, speaker: '',
      members: new Map(), plays: new Map(), muted: false };
    c.members.set(j.member, { id: j.member, user: page.state().user, kind: 'web', muted: false });
    for (const m of j.members || []) c.members.set(m.id, m);
    cur = c;
    page.notice(news);
    render();
    await startMedia(c, j);
  }
  const refusal = (err, room) => (err.code === 'bad_pin' ? 'Wrong PIN for ' + room : err.message);

  async function join(ev) {
    ev.preventDefault();
    if (cur || joining) return;
    const room = $('conf-room').value.trim();
    const pin = $('conf-pin').value.trim();
    joining = true;
    try {
      await enter(room, pin, '');
    } catch (err) {
      page.notice(refusal(err, room), true);
    } finally {
      joining = false;
    }
  }

  // rejoin takes the page back into the room it was in when its node
  // stopped answering (app.js carried the name and PIN in the fragment).
  // A room held by the lost node moves to a survivor a few heartbeats
  // later; meanwhile this node answers moving, or fails asking the dead
  // node (5xx): those are retried for up to 30 s (conference.rehomeFor,
  // as long as members of other nodes follow a moved room). A refusal is
  // final and shown: the user may join by hand.
  async function rejoin(moved) {
    const room = moved.room, token = page.state().token;
    if (cur || joining) return;
    joining = true; // the form waits: two joins of one room would replace each other
    $('conf-room').value = room;
    page.notice(moved.news + '; rejoining room ' + room + '…');
    const until = Date.now() + 30000;
    try {
      while (!cur && page.state().token === token) { // not after a sign-out
        try {
          await enter(room, moved.pin, moved.news + ' and rejoined room ' + room);
          unmuteOnClick();
          return;
        } catch (err) {
          const again = !cur && (err.code === 'moving' || err.name === 'TypeError' || err.status >= 500);
          if (!again || Date.now() > until) {
            if (page.state().token === token) page.notice(moved.news + '; could not rejoin room ' + room + ': ' + refusal(err, room), true);
            return;
          }
        }
        await new Promise((res) => setTimeout(res, 500));
      }
    } finally {
      joining = false;
    }
  }
  // A page that came here without a click may have its sound held by the
  // browser's autoplay policy: the user's first click lets it out.
  function unmuteOnClick() {
    document.addEventListener('click', () => {
      lib.audioContext();
      if (cur) for (const p of cur.plays.values()) p.el.play().catch(() => {});
    }, { once: true });
  }

  async function startMedia(c, j) {
    const ctx = lib.audioContext();
    c.heard = ctx.createAnalyser(); // every stream this page plays, summed
    c.heard.fftSize = 8192;
    c.mic = await lib.openMic();
    if (cur !== c) { c.mic.getTracks().forEach((t) => t.stop()); return; }
    c.level = lib.analyser(c.mic);
    c.pub = new RTCPeerConnection(await lib.rtcConfig('/phone/' + enc(j.publish) + '/whip'));
    c.mic.getAudioTracks().forEach((t) => c.pub.addTransceiver(t, { direction: 'sendonly' }));
    const loc = await lib.whip(c.pub, '/phone/' + enc(j.publish) + '/whip');
    if (cur !== c) { del(loc); return; }
    c.pubLoc = loc;
    if (c.mode === 'mixed') play(c, j.play, '');
    else for (const m of j.members || []) if (m.play) play(c, m.play, m.id);
  }

  // play opens a WHEP session for an issued name: the mix (member '') or
  // a relay room's other member.
  async function play(c, name, member) {
    if (!name || c.plays.has(name)) return;
    const p = { member, el: new Audio(), pc: new RTCPeerConnection(await lib.rtcConfig('/phone/' + enc(name) + '/whep')) };
    c.plays.set(name, p);
    p.pc.addTransceiver('audio', { direction: 'recvonly' });
    p.pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      p.el.srcObject = stream; // Chromium feeds WebAudio silence unless a media element plays it too
      p.el.volume = Number($('volume').value);
      p.el.play().catch(() => {});
      p.src = lib.audioContext().createMediaStreamSource(stream);
      p.src.connect(c.heard);
    };
    try {
      const loc = await lib.whip(p.pc, '/phone/' + enc(name) + '/whep');
      if (cur !== c || c.plays.get(name) !== p) { del(loc); return; }
      p.loc = loc;
    } catch (err) {
      if (cur === c) page.notice('room audio: ' + err.message, true);
    }
  }
  function drop(p) {
    p.pc.close();
    if (p.src) p.src.disconnect();
    p.el.srcObject = null;
    del(p.loc);
  }
  function del(loc) {
    if (loc) fetch(loc, { method: 'DELETE', keepalive: true }).catch(() => {});
  }
  function stopPlays(c, member) {
    for (const [name, p] of c.plays) {
      if (member === undefined || p.member === member) { drop(p); c.plays.delete(name); }
    }
  }

  // end stops the room's media on this page; why is shown, if any.
  function end(why, bad) {
    const c = cur;
    cur = null;
    if (!c) return;
    stopPlays(c);
    if (c.pub) c.pub.close();
    del(c.pubLoc);
    if (c.mic) c.mic.getTracks().forEach((t) => t.stop());
    if (why) page.notice(why, bad);
    render();
  }

  const leftWhy = {
    kicked: (e) => 'Removed from ' + e.room + (e.by ? ' by ' + e.by : ''),
    ended: (e) => 'Room ' + e.room + ' ended' + (e.by ? ' by ' + e.by : ''),
    shutdown: () => 'Room ended: the server is restarting',
  };
  function onEvent(e) {
    if (e.type === 'logout') { end(''); return; }
    if (e.type === 'login' && e.moved && e.moved.room) { rejoin(e.moved); return; }
    if (e.type === 'moving' && cur) { // app.js carries the room to the next node
      e.carry.set('room', cur.room);
      if (cur.pin) e.carry.set('pin', cur.pin);
      return;
    }
    const c = cur;
    if (!c || !e.type.startsWith('conf_') || e.room !== c.room) return;
    switch (e.type) {
      case 'conf_joined':
        if (e.member === c.member) return;
        c.members.set(e.member, { id: e.member, user: e.user, kind: '', muted: false });
        if (c.mode === 'relay') play(c, e.play, e.member);
        refresh(c);
        break;
      case 'conf_left':
        if (e.member === c.member) {
          const f = leftWhy[e.reason];
          end(f ? f(e) : 'Left ' + e.room, e.reason === 'kicked');
          return;
        }
        c.members.delete(e.member);
        stopPlays(c, e.member);
        if (c.speaker === e.member) c.speaker = '';
        break;
      case 'conf_ended':
        end(leftWhy.ended(e), false);
        return;
      case 'conf_mode':
        c.mode = 'mixed';
        stopPlays(c);
        play(c, e.play, '');
        break;
      case 'conf_muted': {
        const m = c.members.get(e.member);
        if (m) m.muted = e.status === 'muted';
        break;
      }
      case 'conf_speaker':
        c.speaker = e.member || '';
        break;
      default:
        return;
    }
    render();
  }

  // refresh reads the members' kinds and mute states (events name a
  // joiner, not its kind).
  async function refresh(c) {
    try {
      const info = await page.api('GET', '/api/v1/conferences/' + enc(c.room));
      if (cur !== c) return;
      for (const m of info.members || []) {
        const have = c.members.get(m.id);
        if (have) Object.assign(have, { kind: m.kind, muted: m.muted });
      }
      render();
    } catch (err) { /* the list stays as the events made it */ }
  }

  function render() {
    const c = cur;
    $('conf').hidden = !c;
    $('conf-join').hidden = !!c;
    if (!c) return;
    $('conf-title').textContent = c.room;
    $('conf-mode').textContent = c.mode;
    const ul = $('conf-members');
    ul.textContent = '';
    for (const m of c.members.values()) {
      const li = document.createElement('li');
      li.dataset.member = m.id;
      li.dataset.user = m.user;
      li.dataset.speaking = String(c.speaker === m.id);
      li.dataset.muted = String(!!m.muted);
      const dot = document.createElement('span');
      dot.className = 'dot speaking';
      dot.title = 'speaking';
      const n = document.createElement('span');
      n.className = 'name';
      n.textContent = m.user + (m.id === c.member ? ' (you)' : '') + (m.kind && m.kind !== 'web' ? ' · ' + m.kind : '');
      const s = document.createElement('span');
      s.className = 'status';
      s.textContent = m.muted ? 'muted' : '';
      li.append(dot, n, s);
      if (c.moderator || m.id === c.member) li.append(button(m.muted ? 'Unmute' : 'Mute', 'mute', () => memberAction(c, m, m.muted ? 'unmute' : 'mute')));
      if (c.moderator && m.id !== c.member) li.append(button('Kick', 'kick bad', () => memberAction(c, m, 'kick')));
      ul.append(li);
    }
  }
  function button(text, cls, f) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.addEventListener('click', f);
    return b;
  }
  function memberAction(c, m, action) {
    roomAPI(c, '/members/' + enc(m.id) + '/' + action).catch((err) => page.notice(err.message, true));
  }

  // levelAt is the level (dB) at hz of what the page hears from the room.
  function levelAt(hz) {
    const c = cur;
    if (!c || !c.heard) return -200;
    const d = new Float32Array(c.heard.frequencyBinCount);
    c.heard.getFloatFrequencyData(d);
    const bin = Math.round(hz * c.heard.fftSize / lib.audioContext().sampleRate);
    let best = -200;
    for (let i = Math.max(0, bin - 2); i <= Math.min(d.length - 1, bin + 2); i++) best = Math.max(best, d[i]);
    return best;
  }

  function init() {
    $('conf-join').addEventListener('submit', join);
    $('conf-leave').addEventListener('click', () => {
      const c = cur;
      if (!c) return;
      end('');
      roomAPI(c, '/leave').catch(() => {});
    });
    page.onEvent(onEvent);
    // A closed page leaves its room (an HTTP membership does not follow
    // the page's presence); keepalive lets the request outlive the page.
    window.addEventListener('pagehide', () => {
      const c = cur;
      if (!c) return;
      end('');
      fetch('/api/v1/conferences/' + enc(c.room) + '/leave', {
        method: 'POST', keepalive: true, headers: { Authorization: 'Bearer ' + page.state().token },
      }).catch(() => {});
    });
  }

  // The room's state, for tests and sites embedding the page.
  window.flashvoxConf = {
    state: () => cur && { room: cur.room, member: cur.member, mode: cur.mode, moderator: cur.moderator,
      speaker: cur.speaker, plays: cur.plays.size, members: [...cur.members.values()],
      heardHz: lib.dominant(cur.heard), micHz: lib.dominant(cur.level) },
    levelAt,
  };
  init();
})();
