// Bridge between the page and the SWF softphone (flash-client/) through
// ExternalInterface. The SWF calls window.flashvoxSWF(event, data); the
// page calls the SWF's callbacks fvConnect, fvInvite, fvAccept, fvReject,
// fvHangup, fvDTMF, fvMute, fvVolume, fvMedia, fvStop.
'use strict';

(function () {
  const status = document.getElementById('swf-status');
  const swf = () => document.getElementById('swf');
  let ready = false;
  let rtmpPort = 0; // rtmp.listen's port, from /page.json (0: not known yet)

  // /page.json says where RTMP listens and whether the SWF is built; an
  // unbuilt SWF is explained here instead of the "no Flash runtime" hint.
  fetch('/page.json').then((r) => r.json()).then((cfg) => {
    rtmpPort = cfg.rtmpPort || 1935;
    if (cfg.swf) { connect(); return; }
    const box = document.getElementById('swf-box');
    const p = document.createElement('p');
    p.id = 'swf-missing';
    p.className = 'hint';
    p.textContent = 'The Flash softphone is not built on this server; run make flash. ' +
      'Signalling above works without it.';
    box.replaceChildren(p);
    status.textContent = 'SWF: not built';
  }).catch(() => {});

  // Called by the SWF: 'ready'; 'status', 'error', 'connected', 'closed'
  // with a text; 'event' with a phone app event object.
  window.flashvoxSWF = function (event, data) {
    switch (event) {
      case 'ready':
        ready = true;
        status.textContent = 'SWF: ready';
        connect();
        break;
      case 'status': case 'error': case 'connected': case 'closed':
        status.textContent = 'SWF: ' + (typeof data === 'string' ? data : (data && data.text) || event);
        break;
    }
    return true;
  };

  // The SWF signs in with the page's token when both are ready.
  function connect() {
    const st = window.flashvoxPage && window.flashvoxPage.state();
    if (!ready || !rtmpPort || !st || !st.token) return;
    const port = rtmpPort === 1935 ? '' : ':' + rtmpPort;
    const url = 'rtmp://' + location.hostname + port + '/phone';
    try { swf().fvConnect(url, st.user, st.token); } catch (e) { status.textContent = 'SWF: ' + e.message; }
  }

  // A call signalled over HTTP gets its audio from the SWF: it publishes
  // and plays the names the server issued.
  if (window.flashvoxPage) {
    window.flashvoxPage.onEvent((e, st) => {
      if (e.type === 'login') connect();
      if (!ready) return;
      try {
        if (e.type === 'accepted' && st.call && st.call.state === 'active') swf().fvMedia(e.publish, e.play);
        if (e.type === 'bye' || e.type === 'cancelled' || e.type === 'rejected') swf().fvStop();
      } catch (err) { status.textContent = 'SWF: ' + err.message; }
    });
  }
})();
