package wire

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Policy says whether this end requires HMAC and session sequence numbers
// from its peer (RFC 7425 §4.6.5). Flash Player requires neither; rtmfp-cpp's
// tools require both by default. Either way we send them when asked.
type Policy struct {
	RequireHMAC bool
	RequireSeq  bool
}

// negotiated is the outcome of one option's negotiation.
type negotiated struct{ sendAlways, recvRequired bool }

// flags is what we announce: send always, send on request (always), and
// whether we require.
func (n negotiated) flags() uint8 {
	f := uint8(negSendOnRequest)
	if n.sendAlways {
		f |= negSendAlways
	}
	if n.recvRequired {
		f |= negRequire
	}
	return f
}

// with combines our position with the peer's flags; false when we require
// something the peer will not send.
func (n negotiated) with(peer uint8) (negotiated, bool) {
	if n.recvRequired && peer&(negSendAlways|negSendOnRequest) == 0 {
		return n, false
	}
	if peer&negSendAlways != 0 {
		n.recvRequired = true
	}
	if peer&negRequire != 0 {
		n.sendAlways = true
	}
	return n, true
}

// keyingParams is the negotiation both keying components carry.
type keyingParams struct {
	hmac, seq negotiated
	hmacRxLen int // length the peer will send
}

// negotiate reads the peer's HMAC and sequence options from its keying
// component and settles both.
func (k *keyingParams) negotiate(opts []option) error {
	var sf, hf uint8
	if v, ok := findOption(opts, keySeq); ok && len(v) > 0 {
		sf = v[0]
	}
	hlen := uint64(0)
	if v, ok := findOption(opts, keyHMAC); ok && len(v) > 0 {
		hf = v[0]
		hlen, _, _ = ParseVLU(v[1:])
	}
	var ok bool
	if k.seq, ok = k.seq.with(sf); !ok {
		return errNegotiation
	}
	if k.hmac, ok = k.hmac.with(hf); !ok {
		return errNegotiation
	}
	if k.hmac.recvRequired {
		if hlen < minHMACLength || hlen > maxHMACLength {
			return errNegotiation
		}
		k.hmacRxLen = int(hlen)
	}
	return nil
}

// appendOptions appends our negotiation options.
func (k *keyingParams) appendOptions(dst []byte) []byte {
	dst = AppendOption(dst, keySeq, []byte{k.seq.flags()})
	h := AppendVLU([]byte{k.hmac.flags()}, defaultHMACLength)
	return AppendOption(dst, keyHMAC, h)
}

// SessionKeys are the keys and nonces of one session (RFC 7425 §4.6.4).
type SessionKeys struct {
	Crypto              *PacketCrypto
	NearNonce, FarNonce []byte
}

// deriveKeys computes the session keys from the shared secret, our keying
// component (sknc) and the far one (skfc), and builds the packet crypto.
func deriveKeys(secret, sknc, skfc []byte, k keyingParams) SessionKeys {
	md := hmacSHA256(skfc, sknc)
	enc := hmacSHA256(secret, md)
	md = hmacSHA256(sknc, skfc)
	dec := hmacSHA256(secret, md)
	c := NewPacketCrypto(enc[:16], dec[:16])
	if k.hmac.sendAlways {
		c.HMACTx = hmac.New(sha256.New, hmacSHA256(secret, enc))
		c.hmacTxLen = defaultHMACLength
	}
	if k.hmac.recvRequired {
		c.hmacRx = hmac.New(sha256.New, hmacSHA256(secret, dec))
		c.hmacRxLen = k.hmacRxLen
	}
	c.SeqTx = k.seq.sendAlways
	c.seqRx = k.seq.recvRequired
	return SessionKeys{Crypto: c, NearNonce: hmacSHA256(secret, sknc), FarNonce: hmacSHA256(secret, skfc)}
}

// RespondKeying is the responder's half of keying: it checks the
// initiator's component skic (and certificate), picks the group, makes an
// ephemeral key and returns our component skrc and the session keys.
func RespondKeying(skic []byte, ic *PeerCert, pol Policy) ([]byte, SessionKeys, error) {
	opts, _, _, err := parseOptionList(skic, maxCertOptions)
	if err != nil {
		return nil, SessionKeys{}, err
	}
	kp := keyingParams{hmac: negotiated{recvRequired: pol.RequireHMAC}, seq: negotiated{recvRequired: pol.RequireSeq}}
	if err := kp.negotiate(opts); err != nil {
		return nil, SessionKeys{}, err
	}
	var gid uint64
	var peerPub []byte
	if v, ok := findOption(opts, keyPublicKey); ok {
		g, l, err := ParseVLU(v)
		if err != nil {
			return nil, SessionKeys{}, ErrBadOption
		}
		gid, peerPub = g, v[l:]
	} else if v, ok := findOption(opts, keyGroupSelect); ok && ic.static {
		g, _, err := ParseVLU(v)
		if err != nil {
			return nil, SessionKeys{}, ErrBadOption
		}
		gid, peerPub = g, ic.keys[g]
	} else {
		return nil, SessionKeys{}, ErrBadOption
	}
	g := dhGroupByID(gid)
	if g == nil {
		return nil, SessionKeys{}, errBadGroup
	}
	key, err := newDHKey(g)
	if err != nil {
		return nil, SessionKeys{}, err
	}
	secret, err := key.shared(peerPub)
	if err != nil {
		return nil, SessionKeys{}, err
	}
	skrc := kp.appendOptions(nil)
	skrc = AppendOption(skrc, keyPublicKey, append(AppendVLU(nil, g.id), key.pub...))
	return skrc, deriveKeys(secret, skrc, skic, kp), nil
}

// InitiatorKeying is the initiator's half of keying: an ephemeral key in
// its component (as Flash Player does).
type InitiatorKeying struct {
	key  *dhKey
	SKIC []byte
	kp   keyingParams
}

// NewInitiatorKeying picks the first of our groups the responder's
// certificate offers and makes our component.
func NewInitiatorKeying(rc *PeerCert, pol Policy) (*InitiatorKeying, error) {
	var g *dhGroup
	for _, x := range dhGroups {
		if rc.supports(x.id) {
			g = x
			break
		}
	}
	if g == nil {
		return nil, errBadGroup
	}
	key, err := newDHKey(g)
	if err != nil {
		return nil, err
	}
	ik := &InitiatorKeying{key: key, kp: keyingParams{hmac: negotiated{recvRequired: pol.RequireHMAC}, seq: negotiated{recvRequired: pol.RequireSeq}}}
	ik.SKIC = AppendOption(nil, keyPublicKey, append(AppendVLU(nil, g.id), key.pub...))
	ik.SKIC = ik.kp.appendOptions(ik.SKIC)
	return ik, nil
}

// Finish combines the responder's component into the session keys.
func (ik *InitiatorKeying) Finish(skrc []byte, rc *PeerCert) (SessionKeys, error) {
	opts, _, _, err := parseOptionList(skrc, maxCertOptions)
	if err != nil {
		return SessionKeys{}, err
	}
	if err := ik.kp.negotiate(opts); err != nil {
		return SessionKeys{}, err
	}
	var peerPub []byte
	if v, ok := findOption(opts, keyPublicKey); ok {
		g, l, err := ParseVLU(v)
		if err != nil || g != ik.key.g.id {
			return SessionKeys{}, errBadGroup
		}
		peerPub = v[l:]
	} else if rc.static {
		peerPub = rc.keys[ik.key.g.id]
	} else {
		return SessionKeys{}, ErrBadOption
	}
	secret, err := ik.key.shared(peerPub)
	if err != nil {
		return SessionKeys{}, err
	}
	return deriveKeys(secret, ik.SKIC, skrc, ik.kp), nil
}
