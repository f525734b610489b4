// The operator's dashboard: signs in, then follows GET /api/v1/admin/live
// by long-poll ("changed since version N") and redraws its tables; the
// charts read /api/v1/admin/history. The token lives in sessionStorage and
// goes in the Authorization header only: no cookies (docs/SECURITY.md).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const st = { token: sessionStorage.getItem('flashvox.admin') || '', version: 0, gen: 0, skew: 0, view: null, cdrGen: 0 };

  async function api(method, path, body) {
    const r = await fetch(path, {
      method,
      headers: Object.assign({ Authorization: 'Bearer ' + st.token }, body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (r.status === 401) { signOut('Session ended: sign in again'); throw new Error('401'); }
    if (r.status === 403) { forbidden(); throw new Error('403'); }
    if (!r.ok) {
      let msg = r.status + '';
      try { msg = (await r.json()).message || msg; } catch (_) { /* not JSON */ }
      throw new Error(msg);
    }
    return r;
  }

  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  function row(cells, attrs) {
    const tr = el('tr', null, attrs);
    for (const c of cells) {
      const td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined ? '' : String(c);
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(id, rows, cols, empty) {
    const tb = $(id).tBodies[0];
    tb.replaceChildren(...rows);
    if (!rows.length) tb.appendChild(el('tr')).appendChild(el('td', empty, { class: 'empty', colspan: String(cols) }));
  }

  // actions is one cell of several buttons.
  function actions(...buttons) {
    const s = el('span');
    buttons.forEach((b, i) => { if (i) s.append(' '); s.appendChild(b); });
    return s;
  }

  function button(label, attrs, action) {
    const b = el('button', label, Object.assign({ type: 'button', class: 'bad' }, attrs));
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await action(); $('action-error').hidden = true; } catch (e) {
        if (e.message !== '401' && e.message !== '403') { $('action-error').textContent = label + ': ' + e.message; $('action-error').hidden = false; }
      } finally { b.disabled = false; }
    });
    return b;
  }

  function fmtDur(sec) {
    sec = Math.max(0, Math.floor(sec));
    const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(s).padStart(2, '0');
  }

  // duration of a call now, by the server's clock.
  function callDuration(c) {
    const from = Date.parse(c.answered || c.started);
    return (Date.now() + st.skew - from) / 1000;
  }

  function render(v) {
    st.view = v;
    st.skew = Date.parse(v.now) - Date.now();
    const esc = encodeURIComponent;
    fill('calls', v.calls.map((c) => row([c.from + (c.fromKind ? ' (' + c.fromKind + ')' : ''), c.to + (c.toKind ? ' (' + c.toKind + ')' : ''),
      c.state, (c.mode || '') + (c.fellBack ? ' (fell back)' : ''), [c.fromCodec, c.toCodec].filter(Boolean).join(' / '),
      el('span', fmtDur(callDuration(c)), { 'data-dur': c.id }),
      button('Hang up', { 'data-hangup': c.id }, () => api('POST', '/api/v1/admin/calls/' + esc(c.id) + '/hangup'))],
    { 'data-call': c.id, 'data-state': c.state })), 7, 'no calls');
    fill('rooms', v.rooms.map((r) => {
      const members = el('span');
      for (const m of r.members || []) {
        const s = el('span', null, { class: 'member', 'data-member': m.id });
        s.append(m.user + (m.muted ? ' (muted)' : '') + ' ');
        s.appendChild(button('kick', { 'data-kick': m.id }, () => api('POST', '/api/v1/admin/rooms/' + esc(r.name) + '/members/' + esc(m.id) + '/kick')));
        s.appendChild(button(m.muted ? 'unmute' : 'mute', { 'data-mute': m.id },
          () => api('POST', '/api/v1/admin/rooms/' + esc(r.name) + '/members/' + esc(m.id) + (m.muted ? '/unmute' : '/mute'))));
        s.append(' ');
        members.appendChild(s);
      }
      return row([r.name + (r.locked ? ' (locked)' : ''), r.mode, members,
        actions(button(r.locked ? 'Unlock' : 'Lock', { 'data-lock-room': r.name },
          () => api('POST', '/api/v1/admin/rooms/' + esc(r.name) + (r.locked ? '/unlock' : '/lock'))),
        button('End', { 'data-end-room': r.name }, () => api('POST', '/api/v1/admin/rooms/' + esc(r.name) + '/end')))], { 'data-room': r.name });
    }), 4, 'no rooms');
    fill('users', v.users.map((u) => row([u.name, u.status,
      confirmButton('Disable', 'Disable ' + u.name + '?', { 'data-disable': u.name },
        () => api('PATCH', '/api/v1/admin/users/' + esc(u.name), { enabled: false }))], { 'data-user': u.name })), 3, 'nobody online');
    fill('streams', v.streams.map((s) => row([s.name + (s.call ? ' (call)' : ''), s.codec || '', s.published ? 'yes' : 'no', s.players],
      { 'data-stream': s.name })), 4, 'no streams');
    fill('trunks', v.trunks.map((t) => row([t.name, t.address, !t.register ? 'not registering' : t.registered ? 'registered' : ('not registered' + (t.error ? ': ' + t.error : ''))],
      { 'data-trunk': t.name })), 3, 'no trunks');
    fill('phones', v.phones.map((p) => row([p.user, p.contact, p.transport + ' ' + p.source, new Date(p.expires).toLocaleTimeString()])), 4, 'no phones registered');
    $('n-calls').textContent = '(' + v.calls.length + ')';
    $('n-rooms').textContent = '(' + v.rooms.length + ')';
    $('n-users').textContent = '(' + v.users.length + ')';
    $('n-streams').textContent = '(' + v.streams.length + ')';
    $('dash').dataset.version = String(v.version);
  }

  // confirmButton acts on a second click within 5 s: the first one only
  // asks (no modal dialog, which would stop the live updates).
  function confirmButton(label, ask, attrs, action) {
    let armed = null;
    const b = button(label, attrs, async () => {
      if (!armed) {
        b.textContent = ask; b.dataset.armed = '1';
        armed = setTimeout(() => { armed = null; b.textContent = label; delete b.dataset.armed; }, 5000);
        return;
      }
      clearTimeout(armed); armed = null;
      await action();
    });
    return b;
  }

  // follow long-polls the live view until sign-out (a newer gen).
  async function follow(gen) {
    while (gen === st.gen) {
      try {
        const r = await api('GET', '/api/v1/admin/live?since=' + st.version + '&wait=25s');
        const v = await r.json();
        if (gen !== st.gen) return;
        st.version = v.version;
        render(v);
        $('status').textContent = 'live'; $('status').className = 'pill on';
      } catch (e) {
        if (e.message === '401' || e.message === '403') return;
        $('status').textContent = 'reconnecting'; $('status').className = 'pill warn';
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    }
  }

  // chart draws samples[key] as a step line with its area, over the last
  // hour or, on a younger server, over the time it has samples for.
  function chart(id, samples, key, interval) {
    const svg = $(id);
    const W = 360, H = 80, now = Date.now() + st.skew;
    const first = samples.length ? Date.parse(samples[0].t) : now;
    const span = Math.min(3600, Math.max(10 * interval, (now - first) / 1000));
    const max = Math.max(1, ...samples.map((s) => s[key]));
    const x = (t) => Math.max(0, W - (now - t) / 1000 / span * W).toFixed(1);
    const y = (v) => (H - 2 - (v / max) * (H - 16)).toFixed(1);
    const pts = [];
    samples.forEach((s, i) => {
      const t = Date.parse(s.t);
      const next = i + 1 < samples.length ? Date.parse(samples[i + 1].t) : now;
      pts.push(x(t) + ',' + y(s[key]), x(next) + ',' + y(s[key]));
    });
    const ns = 'http://www.w3.org/2000/svg';
    const mk = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text) e.textContent = text;
      return e;
    };
    const parts = [mk('line', { x1: 0, x2: W, y1: y(max), y2: y(max), class: 'grid' })];
    if (pts.length) {
      const x0 = pts[0].split(',')[0], x1 = pts[pts.length - 1].split(',')[0];
      parts.push(mk('polygon', { points: x0 + ',' + H + ' ' + pts.join(' ') + ' ' + x1 + ',' + H, class: 'area' }));
      parts.push(mk('polyline', { points: pts.join(' ') }));
    }
    const last = samples.length ? samples[samples.length - 1][key] : 0;
    const mins = Math.round(span / 60);
    parts.push(mk('text', { x: 4, y: 10 }, 'now ' + last + ' · max ' + max + ' · ' + (mins >= 1 ? mins + ' min' : Math.round(span) + ' s') + ', every ' + interval + ' s'));
    svg.replaceChildren(...parts);
    svg.dataset.points = String(samples.length);
    svg.dataset.last = String(last);
  }

  async function loadHistory() {
    const h = await (await api('GET', '/api/v1/admin/history')).json();
    chart('chart-calls', h.samples, 'calls', h.interval);
    chart('chart-streams', h.samples, 'streams', h.interval);
    return h.interval;
  }

  async function charts(gen) {
    while (gen === st.gen) {
      let wait = 10;
      try { wait = Math.max(1, await loadHistory()); } catch (e) {
        if (e.message === '401' || e.message === '403') return;
      }
      await new Promise((ok) => setTimeout(ok, wait * 1000));
    }
  }

  // The record kinds of /api/v1/admin/cdr: their columns and cells.
  const when = (s) => (s ? new Date(s).toLocaleString() : '');
  const pct = (v) => (v === null || v === undefined ? '' : v.toFixed(2) + ' %');
  const msec = (v) => (v === null || v === undefined ? '' : v.toFixed(1) + ' ms');
  const inOut = (a, b) => (a === '' && b === '' ? '' : (a || '–') + ' / ' + (b || '–'));
  const cdrKinds = {
    call: {
      head: ['Started', 'Caller', 'Callee', 'Duration', 'Mode', 'End', 'By'],
      cells: (c) => [when(c.started), c.caller, c.callee, fmtDur(c.duration), c.mode || '',
        c.endEvent + (c.reason ? ' (' + c.reason + ')' : ''), c.endedBy || ''],
    },
    conference: {
      head: ['Joined', 'Room', 'Member', 'Duration', 'Transport', 'Codec', 'Reason'],
      cells: (m) => [when(m.joined), m.room, m.member, fmtDur(m.duration), m.transport || '', m.codec || '', m.reason || ''],
    },
    sip: {
      head: ['Started', 'Direction', 'Peer', 'Party', 'Duration', 'Codec', 'Loss in / out', 'Jitter', 'RTT', 'Reason'],
      cells: (l) => [when(l.started), l.direction || '', l.peer, l.party || '', fmtDur(l.duration), l.codec || '',
        inOut(pct(l.lossPct), pct(l.lossOutPct)), msec(l.jitterMs), msec(l.rttMs), l.reason || ''],
    },
    webrtc: {
      head: ['Started', 'Direction', 'Stream', 'Address', 'Duration', 'Codec', 'Loss in / out', 'Jitter', 'RTT', 'Reason'],
      cells: (w) => [when(w.started), w.direction, w.stream, w.addr || '', fmtDur(w.duration), (w.codec || '') + (w.engine ? ' (' + w.engine + ')' : ''),
        inOut(pct(w.lossInPct), pct(w.lossOutPct)), msec(w.jitterMs), msec(w.rttMs), w.reason || ''],
    },
  };

  function cdrQuery() {
    const q = new URLSearchParams();
    q.set('kind', $('cdr-kind').value);
    const u = $('cdr-user').value.trim();
    if (u) q.set('user', u);
    for (const k of ['from', 'to']) {
      const v = $('cdr-' + k).value;
      if (v) q.set(k, new Date(v).toISOString().replace(/\.\d+Z$/, 'Z'));
    }
    q.set('limit', '100');
    return q;
  }

  async function searchCDR() {
    const kind = cdrKinds[$('cdr-kind').value] || cdrKinds.call;
    const gen = ++st.cdrGen;
    const page = await (await api('GET', '/api/v1/admin/cdr?' + cdrQuery())).json();
    if (gen !== st.cdrGen) return; // a later search (another kind, say) draws the table
    const head = el('tr');
    for (const h of kind.head) head.appendChild(el('th', h));
    $('cdr').tHead.replaceChildren(head);
    fill('cdr', page.records.map((c) => row(kind.cells(c), { 'data-cdr': c.id })), kind.head.length, 'no records');
    $('cdr-more').hidden = page.next === undefined;
    $('cdr-more').textContent = 'More records match: narrow the filters or download the CSV.';
  }

  // The CSV needs the Authorization header, so it is fetched and handed
  // to the browser as a blob link.
  async function downloadCSV() {
    const q = cdrQuery(); q.set('format', 'csv'); q.set('limit', '1000');
    const blob = await (await api('GET', '/api/v1/admin/cdr?' + q)).blob();
    const a = $('cdr-csv-link');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    a.dataset.bytes = String(blob.size);
    a.click();
  }

  function forbidden() {
    st.gen++;
    $('dash').hidden = true; $('login-form').hidden = true; $('forbidden').hidden = false; $('logout').hidden = false;
    $('status').textContent = 'forbidden'; $('status').className = 'pill warn';
  }

  function signOut(why) {
    st.gen++; st.token = ''; st.version = 0;
    sessionStorage.removeItem('flashvox.admin');
    $('dash').hidden = true; $('forbidden').hidden = true; $('logout').hidden = true; $('login-form').hidden = false;
    $('status').textContent = 'signed out'; $('status').className = 'pill';
    $('login-error').textContent = why || ''; $('login-error').hidden = !why;
  }

  async function start() {
    const gen = ++st.gen;
    $('login-form').hidden = true; $('logout').hidden = false;
    try {
      const v = await (await api('GET', '/api/v1/admin/live')).json();
      if (gen !== st.gen) return;
      st.version = v.version;
      $('dash').hidden = false;
      render(v);
    } catch (e) {
      if (e.message !== '401' && e.message !== '403') signOut('The server does not answer: ' + e.message);
      return;
    }
    follow(gen);
    charts(gen);
    searchCDR().catch(() => {});
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: $('user').value, password: $('password').value }) });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { $('login-error').textContent = body.message || ('sign-in failed: ' + r.status); $('login-error').hidden = false; return; }
    st.token = body.token;
    sessionStorage.setItem('flashvox.admin', st.token);
    $('login-error').hidden = true;
    start();
  });
  $('logout').addEventListener('click', () => {
    fetch('/api/v1/session', { method: 'DELETE', headers: { Authorization: 'Bearer ' + st.token } }).catch(() => {});
    signOut();
  });
  $('cdr-form').addEventListener('submit', (ev) => { ev.preventDefault(); searchCDR().catch(() => {}); });
  $('cdr-kind').addEventListener('change', () => searchCDR().catch(() => {}));
  $('cdr-csv').addEventListener('click', () => downloadCSV().catch(() => {}));
  setInterval(() => {
    if (!st.view) return;
    for (const c of st.view.calls) {
      const s = document.querySelector('[data-dur="' + CSS.escape(c.id) + '"]');
      if (s) s.textContent = fmtDur(callDuration(c));
    }
  }, 1000);
  if (st.token) start();
})();
