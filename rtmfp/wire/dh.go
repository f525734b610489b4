package wire

import (
	"crypto/rand"
	"math/big"
	"math/bits"
)

// dhGroup is a MODP Diffie-Hellman group RTMFP may use (RFC 7425 §4.2).
type dhGroup struct {
	id      uint64
	p       *big.Int
	expBits int // private exponent size (RFC 3526 §8 strength)
	min     *big.Int
	max     *big.Int
}

var (
	group2  = newDHGroup(2, "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 224)
	group14 = newDHGroup(14, "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 320)
	// dhGroups lists the groups we support, preferred first when we
	// initiate (group 2 is what Flash and rtmfp-cpp use).
	dhGroups = []*dhGroup{group2, group14}
)

func newDHGroup(id uint64, hex string, expBits int) *dhGroup {
	p, _ := new(big.Int).SetString(hex, 16)
	two24 := big.NewInt(1 << 24)
	return &dhGroup{id: id, p: p, expBits: expBits, min: two24, max: new(big.Int).Sub(p, two24)}
}

func dhGroupByID(id uint64) *dhGroup {
	for _, g := range dhGroups {
		if g.id == id {
			return g
		}
	}
	return nil
}

// dhKey is one side's key pair.
type dhKey struct {
	g   *dhGroup
	x   *big.Int
	pub []byte // g^x mod p, big-endian without leading zeros
}

func newDHKey(g *dhGroup) (*dhKey, error) {
	b := make([]byte, (g.expBits+7)/8)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] |= 0x80 // full-size exponent
	x := new(big.Int).SetBytes(b)
	y := new(big.Int).Exp(big.NewInt(2), x, g.p)
	return &dhKey{g: g, x: x, pub: y.Bytes()}, nil
}

// shared validates the peer's public key and returns the shared secret.
func (k *dhKey) shared(peer []byte) ([]byte, error) {
	y, err := validatePublic(k.g, peer)
	if err != nil {
		return nil, err
	}
	return new(big.Int).Exp(y, k.x, k.g.p).Bytes(), nil
}

// validatePublic applies RFC 7425 §4.6.2's checks: 2^24 ≤ y ≤ p − 2^24
// and at least 16 one bits and 16 zero bits.
func validatePublic(g *dhGroup, peer []byte) (*big.Int, error) {
	if len(peer) > (g.p.BitLen()+7)/8+1 {
		return nil, errBadPublicKey
	}
	y := new(big.Int).SetBytes(peer)
	if y.Cmp(g.min) < 0 || y.Cmp(g.max) > 0 {
		return nil, errBadPublicKey
	}
	ones := 0
	for _, w := range y.Bits() {
		ones += bits.OnesCount(uint(w))
	}
	if ones < 16 || y.BitLen()-ones < 16 {
		return nil, errBadPublicKey
	}
	return y, nil
}
