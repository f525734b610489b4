// Package siprtmp is the RTMP application "sip" (rtmp://HOST/sip/USER@DOMAIN),
// compatible with the client API of rtmplite's siprtmp.py so that SWF phones
// written for it work unchanged: connect with (authName, authPassword,
// displayName, rate), the commands invite/accept/reject/bye/sendDTMF/hold,
// the callbacks invited/cancelled/ringing/accepted/rejected/byed, and the
// stream names "local" (publish) and "remote" (play).
//
// A connection is one single-line phone of a flashvox user: the user part
// of USER@DOMAIN, authenticated with the user's password or a token. Calls
// are package call's, so a sip client reaches web users (phone app, HTTP
// API) by name, and they reach it. A destination that is not a user is
// offered to call.Service's gateway (package sipbridge) when one is
// installed; see Target for the string it is given.
//
// Ownership: the session's Serve goroutine runs Call/Publish/Play/Close;
// the push goroutine reads the user's event log and invokes the client's
// callbacks. conn.mu guards the line state both touch.
package siprtmp
