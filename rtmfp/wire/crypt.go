package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
)

// defaultKey encrypts handshake packets (RFC 7425 §4.1).
var defaultKey = []byte("Adobe Systems 02")

// HMAC lengths a peer may ask for (RFC 7425 §4.6.5).
const (
	minHMACLength     = 4
	maxHMACLength     = 32
	defaultHMACLength = 16
	maxSeqGap         = 32 // sequence numbers this far behind the newest are refused
)

// PacketCrypto encrypts and decrypts one session's packets (or the
// handshake's, with the default key). Not safe for concurrent use: its
// owner (a session, under its lock, or the server's reader) serialises it.
type PacketCrypto struct {
	enc, dec cipher.Block

	HMACTx, hmacRx       hash.Hash // nil unless negotiated
	hmacTxLen, hmacRxLen int
	SeqTx, seqRx         bool // session sequence numbers sent / required
	txSeq                uint64
	rxSeqs               seqWindow
	mac                  [sha256.Size]byte
}

// NewPacketCrypto encrypts with encKey and decrypts with decKey (AES-128).
func NewPacketCrypto(encKey, decKey []byte) *PacketCrypto {
	enc, err := aes.NewCipher(encKey)
	if err != nil {
		panic(err) // keys are always 16 bytes here
	}
	dec, err := aes.NewCipher(decKey)
	if err != nil {
		panic(err)
	}
	return &PacketCrypto{enc: enc, dec: dec}
}

// NewDefaultCrypto returns the handshake crypto ("Adobe Systems 02").
func NewDefaultCrypto() *PacketCrypto { return NewPacketCrypto(defaultKey, defaultKey) }

// Seal appends to dst a datagram for session ID ssid carrying plain (the
// header and chunks): the scrambled ID, then AES-CBC (zero IV) of the
// optional sequence number, the checksum unless HMAC is sent, plain and
// 0xff padding to 16 bytes; then the HMAC when negotiated.
func (c *PacketCrypto) Seal(dst []byte, ssid uint32, plain []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	body := len(dst)
	if c.SeqTx {
		dst = AppendVLU(dst, c.txSeq)
		c.txSeq++
	}
	ck := -1
	if c.HMACTx == nil {
		ck = len(dst)
		dst = append(dst, 0, 0)
	}
	dst = append(dst, plain...)
	for (len(dst)-body)%aes.BlockSize != 0 {
		dst = append(dst, 0xff)
	}
	if ck >= 0 {
		binary.BigEndian.PutUint16(dst[ck:], checksum(dst[ck+2:]))
	}
	cbcEncrypt(c.enc, dst[body:])
	if c.HMACTx != nil {
		c.HMACTx.Reset()
		c.HMACTx.Write(dst[body:])
		dst = append(dst, c.HMACTx.Sum(c.mac[:0])[:c.hmacTxLen]...)
	}
	scrambleSessionID(dst[start:], ssid)
	return dst
}

// Open decrypts datagram d (without its 4-byte session ID) into dst and
// returns the header and chunks. d is left intact.
func (c *PacketCrypto) Open(dst, d []byte) ([]byte, error) {
	n := len(d)
	if c.hmacRx != nil {
		if n < c.hmacRxLen {
			return nil, ErrBufferTooShort
		}
		n -= c.hmacRxLen
	}
	if n == 0 || n%aes.BlockSize != 0 {
		return nil, errBadLength
	}
	if c.hmacRx != nil {
		c.hmacRx.Reset()
		c.hmacRx.Write(d[:n])
		if subtle.ConstantTimeCompare(c.hmacRx.Sum(c.mac[:0])[:c.hmacRxLen], d[n:]) != 1 {
			return nil, errHMAC
		}
	}
	p := append(dst[:0], d[:n]...)
	cbcDecrypt(c.dec, p)
	var seq uint64
	if c.seqRx {
		s, l, err := ParseVLU(p)
		if err != nil {
			return nil, err
		}
		if !c.rxSeqs.fresh(s) {
			return nil, errReplay
		}
		seq = s
		p = p[l:]
	}
	if c.hmacRx == nil {
		if len(p) < 2 {
			return nil, ErrBufferTooShort
		}
		if binary.BigEndian.Uint16(p) != checksum(p[2:]) {
			return nil, errChecksum
		}
		p = p[2:]
	}
	if len(p) == 0 {
		return nil, ErrBufferTooShort
	}
	if c.seqRx {
		c.rxSeqs.add(seq)
	}
	return p, nil
}

// Overhead is the most seal adds to a plaintext: session ID, sequence
// number, checksum, padding and HMAC.
func (c *PacketCrypto) Overhead() int {
	n := 4 + 2 + aes.BlockSize - 1
	if c.SeqTx {
		n += vluSize(c.txSeq + 1<<20)
	}
	if c.HMACTx != nil {
		n += c.hmacTxLen
	}
	return n
}

func cbcEncrypt(b cipher.Block, p []byte) {
	var prev [aes.BlockSize]byte
	for i := 0; i < len(p); i += aes.BlockSize {
		blk := p[i : i+aes.BlockSize]
		subtle.XORBytes(blk, blk, prev[:])
		b.Encrypt(blk, blk)
		copy(prev[:], blk)
	}
}

func cbcDecrypt(b cipher.Block, p []byte) {
	var prev, cur [aes.BlockSize]byte
	for i := 0; i < len(p); i += aes.BlockSize {
		blk := p[i : i+aes.BlockSize]
		copy(cur[:], blk)
		b.Decrypt(blk, blk)
		subtle.XORBytes(blk, blk, prev[:])
		prev = cur
	}
}

// seqWindow remembers which recent session sequence numbers were seen.
type seqWindow struct {
	hi   uint64
	bits uint64 // bit i: hi-i was seen
	any  bool
}

func (w *seqWindow) fresh(s uint64) bool {
	if !w.any || s > w.hi {
		return true
	}
	d := w.hi - s
	return d < maxSeqGap && w.bits&(1<<d) == 0
}

func (w *seqWindow) add(s uint64) {
	switch {
	case !w.any:
		w.hi, w.bits, w.any = s, 1, true
	case s > w.hi:
		d := s - w.hi
		if d >= 64 {
			w.bits = 0
		} else {
			w.bits <<= d
		}
		w.hi = s
		w.bits |= 1
	default:
		w.bits |= 1 << (w.hi - s)
	}
}

// hmacSHA256 is HMAC-SHA256(key, msg...).
func hmacSHA256(key []byte, msg ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, b := range msg {
		m.Write(b)
	}
	return m.Sum(nil)
}
