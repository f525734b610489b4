package sipbridge

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/diago"
	dmedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// Requests the stack serves: inbound INVITEs (offer) and REGISTERs
// (registration), on diago's and sipgo's server goroutines.

// diagoOffer is an inbound diago dialog before the answer.
type diagoOffer struct {
	d *diago.DialogServerSession
	s *diagoStack
}

func (o *diagoOffer) FromUser() string   { return o.d.FromUser() }
func (o *diagoOffer) ToUser() string     { return o.d.InviteRequest.Recipient.User }
func (o *diagoOffer) Source() string     { return o.d.InviteRequest.Source() }
func (o *diagoOffer) Method() string     { return o.d.InviteRequest.Method.String() }
func (o *diagoOffer) RequestURI() string { return o.d.InviteRequest.Recipient.String() }

func (o *diagoOffer) Header(name string) string {
	if h := o.d.InviteRequest.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func (o *diagoOffer) Ringing() error { return o.d.Ringing() }

func (o *diagoOffer) Answer() (channel, error) {
	if !sdpSafe(o.d.InviteRequest.Body()) {
		_ = o.d.Respond(488, "Not Acceptable Here", nil)
		return nil, fmt.Errorf("%w: %w", &StatusError{Code: 488, Reason: "Not Acceptable Here"}, errUnsafeSDP)
	}
	return o.answer(nil)
}

func (o *diagoOffer) answer(codecs []dmedia.Codec) (channel, error) {
	var ch *diagoChannel
	var mu sync.Mutex // the answer and a quick re-INVITE race for ch
	update := func(dm *diago.DialogMedia) {
		mu.Lock()
		defer mu.Unlock()
		if ch != nil {
			ch.mediaUpdated(dm)
		}
	}
	// No RTPNAT: diago would send to the first stranger's address; our
	// strict RTP learns a NATed phone's source instead (strictrtp.go).
	if err := o.d.AnswerOptions(diago.AnswerOptions{OnMediaUpdate: update, Codecs: codecs}); err != nil {
		return nil, fmt.Errorf("sip: answer: %w", err)
	}
	c, err := o.s.newChannel(&o.d.DialogMedia, o.d.Context(), o.d.Hangup, o.d.Close)
	if err != nil {
		return nil, err
	}
	withCallID(c, o.d.InviteRequest)
	mu.Lock()
	ch = c
	mu.Unlock()
	return c, nil
}

func (o *diagoOffer) Respond(code int, reason string, headers ...[2]string) error {
	hs := make([]sip.Header, 0, len(headers))
	for _, h := range headers {
		hs = append(hs, sip.NewHeader(h[0], h[1]))
	}
	return o.d.Respond(code, reason, nil, hs...)
}

func (o *diagoOffer) Canceled() <-chan struct{} { return o.d.Context().Done() }

// diagoRegistration is a REGISTER from sipgo's server.
type diagoRegistration struct {
	req *sip.Request
	tx  sip.ServerTransaction
}

func (r *diagoRegistration) User() string       { return r.req.To().Address.User }
func (r *diagoRegistration) FromUser() string   { return r.req.From().Address.User }
func (r *diagoRegistration) Method() string     { return r.req.Method.String() }
func (r *diagoRegistration) RequestURI() string { return r.req.Recipient.String() }
func (r *diagoRegistration) Source() string     { return r.req.Source() }

func (r *diagoRegistration) Transport() string { return strings.ToLower(r.req.Transport()) }

func (r *diagoRegistration) Header(name string) string {
	if h := r.req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func (r *diagoRegistration) Expires() int {
	h := r.req.GetHeader("Expires")
	if h == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func (r *diagoRegistration) Contacts() []contact {
	var out []contact
	for _, h := range r.req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		ct := contact{Expires: -1, Wildcard: c.Address.Wildcard}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				ct.Expires = n
			}
		}
		if !ct.Wildcard {
			ct.URI = c.Address.String()
		}
		out = append(out, ct)
	}
	return out
}

func (r *diagoRegistration) Respond(code int, reason string, headers ...[2]string) error {
	res := sip.NewResponseFromRequest(r.req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(sip.NewHeader(h[0], h[1]))
	}
	return r.tx.Respond(res)
}

// sameRequestURI reports whether a digest's uri names the Request-URI:
// the same text, or the same URI once both are parsed and written again
// by sipgo (which is how the stack gives the Request-URI).
func sameRequestURI(cred, req string) bool {
	if cred == req {
		return true
	}
	var u sip.Uri
	if err := sip.ParseUri(cred, &u); err != nil {
		return false
	}
	return u.String() == req
}
