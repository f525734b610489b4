// flashvox page: signalling over the HTTP API (/api/v1), no Flash needed.
// Events come by long-poll (wait=25s, answered as soon as one happens) or
// by polling once a second; the cursor makes sure none is lost or repeated.
// In a cluster, the page moves to another node when its own stops
// answering, carrying its session over (failover below).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const st = {
    user: '', token: '', cursor: 0, mode: 'longpoll',
    running: false, abort: null, presence: {}, call: null, timer: 0,
    pages: [], pagesTimer: 0, failures: 0,
  };
  const listeners = []; // flash.js subscribes to call events

  // ---- HTTP API ----
  async function api(method, path, body, signal) {
    const headers = {};
    if (st.token) headers.Authorization = 'Bearer ' + st.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, {
      method, headers, signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error(data.message || ('HTTP ' + r.status));
      e.code = data.error || String(r.status);
      e.status = r.status;
      throw e;
    }
    return data;
  }
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  // peerId tells the server this page can try a direct WebRTC connection
  // with another page (media.js); without WebRTC the call relays.
  const peerId = window.RTCPeerConnection ? 'webrtc' : undefined;

  // ---- rendering ----
  function setConn(text, cls) {
    const c = $('conn');
    c.textContent = text;
    c.className = 'pill ' + cls;
  }
  function notice(text, bad) {
    const n = $('notice');
    n.textContent = text;
    n.className = 'notice' + (bad ? ' bad' : '');
    n.hidden = !text;
  }
  function logEvent(e) {
    if (e.type === 'signal') return; // WebRTC plumbing (media.js), not news
    const li = document.createElement('li');
    const what = e.type === 'presence' ? e.user + ' ' + e.status
      : e.type.startsWith('conf_') ? [e.room, e.user || '', e.status || '', e.reason || '', e.by ? 'by ' + e.by : ''].join(' ')
      : [e.from, '→', e.to, e.reason || '', e.digits || ''].join(' ');
    li.textContent = e.type + ': ' + what;
    const ol = $('events');
    ol.prepend(li);
    while (ol.children.length > 50) ol.lastChild.remove();
  }
  function renderContacts() {
    const ul = $('contacts');
    ul.textContent = '';
    for (const name of Object.keys(st.presence).sort()) {
      if (name === st.user) continue;
      const s = st.presence[name];
      const li = document.createElement('li');
      li.dataset.user = name;
      li.dataset.status = s;
      const dot = document.createElement('span');
      dot.className = 'dot ' + s;
      const n = document.createElement('span');
      n.className = 'name';
      n.textContent = name;
      const t = document.createElement('span');
      t.className = 'status';
      t.textContent = s;
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'Call';
      b.disabled = s !== 'online' || !!st.call;
      b.addEventListener('click', () => invite(name));
      li.append(dot, n, t, b);
      ul.append(li);
    }
  }
  const fmt = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  function renderCall() {
    const c = st.call;
    $('call').hidden = !c;
    clearInterval(st.timer);
    if (!c) { renderContacts(); return; }
    const box = $('call');
    box.className = 'call' + (c.state === 'incoming' ? ' ringing' : '');
    const text = {
      dialing: 'Calling ' + c.peer + '…',
      ringing: 'Ringing ' + c.peer + '…',
      incoming: 'Incoming call from ' + c.peer,
      active: 'In call with ' + c.peer,
    }[c.state];
    $('call-state').textContent = text;
    $('answer').hidden = $('reject').hidden = c.state !== 'incoming';
    $('hangup').hidden = c.state === 'incoming';
    $('dtmf').hidden = c.state !== 'active';
    $('call-timer').hidden = c.state !== 'active';
    if (c.state === 'active') {
      const tick = () => { $('call-timer').textContent = fmt(Math.floor((Date.now() - c.since) / 1000)); };
      tick();
      st.timer = setInterval(tick, 1000);
    }
    renderContacts();
  }

  // ---- events ----
  const reasons = {
    offline: (p) => p + ' is offline',
    busy: (p) => p + ' is busy',
    rejected: (p) => p + ' declined the call',
    no_answer: () => 'No answer',
    cancelled: (p) => p + ' hung up before the answer',
    hangup: (p, e) => 'Call ended' + (e.by && e.by !== st.user ? ' by ' + e.by : ''),
    gone: (p) => 'Call dropped: ' + p + ' disconnected',
    shutdown: () => 'Call ended: the server is restarting',
    answered_elsewhere: () => 'Answered on another device',
  };
  function handle(e) {
    logEvent(e);
    const c = st.call;
    switch (e.type) {
      case 'presence':
        st.presence[e.user] = e.status;
        renderContacts();
        return;
      case 'incoming':
        st.call = { id: e.call, peer: e.from, dir: 'in', state: 'incoming' };
        notice('');
        break;
      case 'ringing':
        if (c && c.id === e.call) c.state = 'ringing';
        else st.call = { id: e.call, peer: e.to, dir: 'out', state: 'ringing' };
        break;
      case 'accepted':
        if (c && c.dir === 'in' && !c.answering) {
          st.call = null;
          notice(reasons.answered_elsewhere());
          break;
        }
        st.call = { id: e.call, peer: e.from === st.user ? e.to : e.from, dir: c ? c.dir : 'out',
          state: 'active', since: (c && c.since) || Date.now(), publish: e.publish, play: e.play };
        notice('');
        break;
      case 'rejected': case 'cancelled': case 'bye': {
        if (c && c.id !== e.call) break;
        const peer = e.from === st.user ? e.to : e.from;
        const f = reasons[e.reason];
        notice(f ? f(peer, e) : e.type + (e.reason ? ': ' + e.reason : ''), e.type !== 'bye');
        st.call = null;
        break;
      }
      case 'dtmf':
        notice(e.by + ' sent ' + e.digits);
        break;
    }
    renderCall();
    for (const f of listeners) f(e, st);
  }

  async function loop(gen) {
    while (st.running && gen === st.gen) {
      try {
        const wait = st.mode === 'longpoll' ? '&wait=25s' : '';
        st.abort = new AbortController();
        const r = await api('GET', '/api/v1/events?cursor=' + st.cursor + wait, undefined, st.abort.signal);
        if (gen !== st.gen) return;
        st.cursor = r.cursor;
        st.failures = 0;
        (r.events || []).forEach(handle);
        setConn(st.mode === 'longpoll' ? 'online · long-poll' : 'online · polling', 'on');
        if (st.mode === 'poll' && (r.events || []).length < 500) await sleep(1000);
      } catch (err) {
        if (gen !== st.gen) return;
        if (err.code === 'token_expired' || err.code === 'bad_token') { logout('Session expired: sign in again'); return; }
        if (err.code === 'token_revoked') { logout('Signed out'); return; }
        // No answer at all (the node is gone) or a proxy's 502/504 in
        // front of a gone node: after three in a row, move elsewhere.
        const down = !err.code || err.code === '502' || err.code === '504';
        st.failures = down ? st.failures + 1 : 0;
        // Not while the browser knows it is offline itself: every node
        // would be as unreachable, and the move would end on an error page.
        if (st.failures >= 3 && st.pages.length && navigator.onLine !== false) { moveTo(st.pages[0]); return; }
        setConn('server unreachable, retrying', 'warn');
        await sleep(down && st.pages.length ? 500 : 2000);
      }
    }
  }
  function restart() {
    st.gen = (st.gen || 0) + 1;
    if (st.abort) st.abort.abort();
    loop(st.gen);
  }

  // ---- actions ----
  async function act(f) {
    try { await f(); } catch (err) { notice(err.message, true); }
  }
  function invite(to) {
    act(async () => {
      if (st.call) return;
      st.call = { id: '', peer: to, dir: 'out', state: 'dialing' };
      renderCall();
      try {
        const r = await api('POST', '/api/v1/calls', { to, peerId });
        if (st.call && st.call.id === '') st.call.id = r.call;
      } catch (err) { st.call = null; renderCall(); throw err; }
    });
  }
  const callAction = (action, body) => act(async () => {
    if (!st.call) return;
    const c = st.call;
    if (action === 'accept') c.answering = true;
    const r = await api('POST', '/api/v1/calls/' + c.id + '/' + action, body);
    if (action === 'accept' && st.call === c && c.state === 'incoming') {
      // Answered: show the call at once, the accepted event confirms it.
      Object.assign(c, { state: 'active', since: Date.now(), publish: r.publish, play: r.play });
      notice('');
      renderCall();
    }
  });

  // signedIn starts the phone for r (a login's answer, or the session
  // carried over from another node): user, token, the log's head. moved is
  // what a page of a lost node carried besides the session (resume).
  async function signedIn(r, news, moved) {
    // Start at the log's head at sign-in: the calls that ended before
    // are history, not news (no stale "Call ended" banner).
    st.user = r.user; st.token = r.token; st.cursor = r.cursor || 0; st.call = null;
    st.mode = $('mode').value;
    $('mode-live').value = st.mode;
    const p = await api('GET', '/api/v1/presence');
    st.presence = p.users || {};
    // A call ringing for us now rang before the login's cursor: show it.
    const cs = await api('GET', '/api/v1/calls');
    const ring = (cs.calls || []).find((c) => c.state === 'ringing' && c.to === st.user);
    if (ring) st.call = { id: ring.call, peer: ring.from, dir: 'in', state: 'incoming' };
    $('me').textContent = st.user;
    $('login').hidden = true;
    $('phone').hidden = false;
    notice(news || '');
    renderCall();
    // The node answered: online now, not at the first event's answer
    // (a long-poll from the log's head may wait its whole 25 s).
    setConn(st.mode === 'longpoll' ? 'online · long-poll' : 'online · polling', 'on');
    st.running = true; st.failures = 0;
    restart();
    watchPages(r.pages);
    for (const f of listeners) f({ type: 'login', moved }, st); // conf.js rejoins moved.room
  }

  async function login(ev) {
    ev.preventDefault();
    const err = $('login-error');
    err.hidden = true;
    $('login-button').disabled = true;
    try {
      await signedIn(await api('POST', '/api/v1/login', { user: $('user').value.trim(), password: $('password').value }));
    } catch (e) {
      err.textContent = e.code === 'bad_credentials' ? 'Wrong user or password'
        : e.code === 'too_many_attempts' ? 'Too many failed attempts: ' + e.message.replace(/^.*; /, '')
        : e.name === 'TypeError' ? 'Server unreachable' : e.message;
      err.hidden = false;
    } finally {
      $('login-button').disabled = false;
    }
  }
  function logout(why) {
    if (!why && st.token) { // the button: revoke the token on the server too
      fetch('/api/v1/session', { method: 'DELETE', headers: { Authorization: 'Bearer ' + st.token } }).catch(() => {});
    }
    st.running = false;
    st.gen = (st.gen || 0) + 1;
    if (st.abort) st.abort.abort();
    clearInterval(st.pagesTimer);
    st.token = ''; st.call = null; st.pages = [];
    for (const f of listeners) f({ type: 'logout' }, st); // media.js ends the call's audio
    $('phone').hidden = true;
    $('login').hidden = false;
    setConn('signed out', 'off');
    if (why) { $('login-error').textContent = why; $('login-error').hidden = false; }
  }

  // ---- failover (docs/CLUSTER.md "What happens when a node dies") ----
  // While signed in, the page keeps the other cluster nodes' page URLs
  // (GET /api/v1/session, every 5 s, least loaded first). When its node
  // stops answering, it loads the first of them with its session in the
  // URL fragment: a fragment is never sent to a server (not in the
  // request, not in a Referer), and the page there takes it out of the
  // address bar and the history before anything else, then checks it
  // with that node (resume). A call in progress is not carried: it ended
  // with the node (node_lost), and the page there says so. The room the
  // page was in is carried by name (and PIN), and the page there joins it
  // again like its form would: that node checks the join as any other.
  function safePages(list) {
    const out = [];
    for (const p of list || []) {
      try {
        const u = new URL(p);
        if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== location.origin) out.push(u.href);
      } catch (e) { /* not a URL: never followed */ }
    }
    return out;
  }
  function watchPages(first) {
    const ask = async () => {
      if (!st.running) return;
      // A failure keeps the last list: it is needed when the node is gone.
      try { st.pages = safePages((await api('GET', '/api/v1/session')).pages); } catch (e) { /* the events loop sees it */ }
    };
    clearInterval(st.pagesTimer);
    st.pagesTimer = setInterval(ask, 5000);
    if (first) st.pages = safePages(first);
    else ask(); // a login's answer has no list
  }
  function moveTo(page) {
    st.running = false;
    st.gen = (st.gen || 0) + 1;
    clearInterval(st.pagesTimer);
    setConn('server lost, moving', 'warn');
    const to = new URL(page);
    to.search = location.search; // ?mode= and the like
    const carry = new URLSearchParams({ user: st.user, token: st.token, mode: st.mode });
    if (st.call) carry.set('call', st.call.peer); // to say it ended, never to redo it
    for (const f of listeners) f({ type: 'moving', carry }, st); // conf.js adds its room
    to.hash = carry.toString();
    location.replace(to.href); // not a history entry of its own: back does not return to the dead node
  }
  // resume takes the session a page of another node carried here in the
  // fragment: only if the token is valid here and is the named user's.
  async function resume() {
    const f = new URLSearchParams(location.hash.slice(1));
    if (!f.has('token')) return;
    history.replaceState(null, '', location.pathname + location.search); // out of sight and history first
    const user = f.get('user') || '', token = f.get('token') || '';
    if (f.get('mode') === 'poll' || f.get('mode') === 'longpoll') $('mode').value = f.get('mode');
    const refuse = (why) => {
      st.token = '';
      setConn('signed out', 'off');
      $('login-error').textContent = why;
      $('login-error').hidden = false;
    };
    setConn('resuming', 'warn');
    st.token = token;
    try {
      const r = await api('GET', '/api/v1/session');
      if (r.user !== user) { refuse('The session handed over is not ' + user + '\'s: sign in'); return; }
      // Shown, never acted on: the call ended with the lost node.
      const peer = f.get('call') || '';
      const news = 'Your server stopped answering: moved to this one' +
        (/^[A-Za-z0-9._@+-]{1,64}$/.test(peer) ? '; the call with ' + peer + ' ended' : '');
      // The room is joined again only by a page that came from another
      // node of this cluster (lost ones included): a link from anywhere
      // else may lend its own session (SECURITY.md), and must not make the
      // page open the microphone into a room of the link's choosing.
      let room = f.get('room') || '', why = news;
      if (room && !fromNode(r.known)) { why = news + '; room ' + room + ' not rejoined: this link did not come from a server of this cluster'; room = ''; }
      await signedIn(Object.assign({ token }, r), why, { news, room, pin: f.get('pin') || '' });
    } catch (e) {
      refuse(e.code === 'token_expired' ? 'Session expired: sign in again'
        : e.code === 'token_revoked' ? 'Signed out'
          : e.name === 'TypeError' ? 'Server unreachable' : 'Sign in again: ' + e.message);
    }
  }

  // fromNode tells whether this page was loaded from one of known (page
  // URLs): the referrer a move leaves is the lost node's origin.
  function fromNode(known) {
    let from;
    try { from = new URL(document.referrer).origin; } catch (e) { return false; }
    return from !== location.origin && (known || []).some((p) => {
      try { return new URL(p).origin === from; } catch (e) { return false; }
    });
  }

  function init() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => logout(''));
    $('mode-live').addEventListener('change', (e) => { st.mode = e.target.value; restart(); });
    $('dial').addEventListener('submit', (e) => { e.preventDefault(); invite($('dial-to').value.trim()); });
    $('answer').addEventListener('click', () => callAction('accept', { peerId }));
    $('reject').addEventListener('click', () => callAction('reject', {}));
    $('hangup').addEventListener('click', () => callAction('hangup'));
    for (const d of '123456789*0#') {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d;
      b.addEventListener('click', () => callAction('dtmf', { digits: d }));
      $('dtmf').append(b);
    }
    const q = new URLSearchParams(location.search);
    if (q.get('mode')) $('mode').value = q.get('mode');
    // After media.js, conf.js and flash.js subscribed (deferred scripts
    // all run before DOMContentLoaded): they hear the resumed sign-in.
    document.addEventListener('DOMContentLoaded', resume);
  }

  // The page's API for flash.js and for sites embedding it.
  window.flashvoxPage = {
    state: () => st,
    onEvent: (f) => listeners.push(f),
    invite, hangup: () => callAction('hangup'),
    api, notice, // conf.js
  };
  init();
})();
