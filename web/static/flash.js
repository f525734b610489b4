// Bridge between the page and the SWF softphone (flash-client/) through
// ExternalInterface. The SWF calls window.flashvoxSWF(event, data); the
// page calls the SWF's callbacks fvConnect, fvInvite, fvAccept, fvReject,
// fvHangup, fvDTMF, fvMute, fvVolume, fvMedia, fvStop.
'use strict';

(function () {
  const status = document.getElementById('swf-status');
  const swf = () => document.getElementById('swf');
  let ready = false;

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
    if (!ready || !st || !st.token) return;
    const url = 'rtmp://' + location.hostname + '/phone';
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
