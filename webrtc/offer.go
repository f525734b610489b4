package webrtc

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/pion/sdp/v3"
)

// MaxOfferSize bounds an SDP offer: a browser's audio-only offer is 2–6 KB.
const MaxOfferSize = 16 << 10

// Errors of an offer; the handler answers 413 and 415 for the first two
// and 400 for the others.
var (
	errTooLarge    = errors.New("offer too large")
	errContentType = errors.New("content type must be application/sdp")
	errBadOffer    = errors.New("bad SDP offer")
)

// readOffer reads a request's SDP offer, bounded by MaxOfferSize, and
// what its audio sections offer.
func readOffer(r *http.Request) (string, offered, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/sdp" {
		return "", offered{}, errContentType
	}
	if r.ContentLength > MaxOfferSize {
		return "", offered{}, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxOfferSize+1))
	if err != nil {
		return "", offered{}, fmt.Errorf("read offer: %w", err)
	}
	if len(b) > MaxOfferSize {
		return "", offered{}, errTooLarge
	}
	o, err := checkOffer(b)
	if err != nil {
		return "", offered{}, err
	}
	return string(b), o, nil
}

// maxMedia bounds the m= sections an offer may have: WHIP/WHEP audio needs
// one; a few more (video a browser adds) are tolerated and rejected in the
// answer.
const maxMedia = 8

// checkOffer refuses what pion should not even parse at length: not an
// SDP offer, too many media sections, or no audio section with a codec
// the edge speaks (opus/48000, PCMU/8000, PCMA/8000, G722/8000).
func checkOffer(b []byte) (offered, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(string(b)); err != nil {
		return offered{}, fmt.Errorf("%w: %v", errBadOffer, err)
	}
	if len(d.MediaDescriptions) == 0 || len(d.MediaDescriptions) > maxMedia {
		return offered{}, fmt.Errorf("%w: %d media sections (want 1..%d)", errBadOffer, len(d.MediaDescriptions), maxMedia)
	}
	o := readOffered(&d)
	if len(o.codecs) == 0 {
		return offered{}, fmt.Errorf("%w: no audio section offers opus/48000, PCMU/8000, PCMA/8000 or G722/8000", errBadOffer)
	}
	return o, nil
}
