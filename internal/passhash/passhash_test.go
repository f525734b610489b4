package passhash

import (
	"errors"
	"strings"
	"testing"
)

// libargon2Vectors were written by Debian's libargon2 1 (the reference C
// implementation, argon2id_hash_encoded through ctypes): a differential
// check of golang.org/x/crypto/argon2 and of the PHC encoding.
var libargon2Vectors = []struct{ password, phc string }{
	{"password", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"},
	{"correct horse battery staple", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0"},
	{"password", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$D4COdQOGXB7SErdL7O1Ahw"},
}

func TestVerifyLibargon2Vectors(t *testing.T) {
	for _, v := range libargon2Vectors {
		h, err := Parse(v.phc)
		if err != nil {
			t.Fatalf("%s: %v", v.phc, err)
		}
		if h.String() != v.phc {
			t.Fatalf("round trip: %s != %s", h.String(), v.phc)
		}
		if !h.Verify(v.password) {
			t.Fatalf("%q does not verify against %s", v.password, v.phc)
		}
		if h.Verify(v.password + "x") {
			t.Fatalf("a wrong password verifies against %s", v.phc)
		}
	}
}

func TestNewUsesDefaultsAndFreshSalt(t *testing.T) {
	a, b := New("s3cret", Default), New("s3cret", Default)
	if !strings.HasPrefix(a.String(), "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not OWASP's parameters: %s", a)
	}
	if a.String() == b.String() {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	p, err := Parse(a.String())
	if err != nil || !p.Verify("s3cret") || p.Verify("s3creT") {
		t.Fatalf("parse/verify of a new hash: %v", err)
	}
}

// parseCases drive TestParseRefuses and seed FuzzParse.
var parseCases = []string{
	"",
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=100000,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=2,p=255$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01",
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E$",
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X-qHkZvWnHmGBGXFYvh8z2E",
	"argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=7,t=1,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"$argon2id$v=19$m=+19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
	"alice",
}

func TestParseRefuses(t *testing.T) {
	for i, s := range parseCases {
		_, err := Parse(s)
		if (i == 1) != (err == nil) {
			t.Errorf("%q: err %v", s, err)
		}
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v does not wrap ErrFormat", s, err)
		}
	}
	if _, err := Parse("$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 600) + "$x"); err == nil {
		t.Fatal("a 600-byte string parsed")
	}
}

func TestHA1(t *testing.T) {
	// RFC 7616 section 3.9.1's user, realm and password; the values are
	// coreutils md5sum and sha256sum of "Mufasa:http-auth@example.org:Circle of Life".
	md5, _ := HA1(MD5, "Mufasa", "http-auth@example.org", "Circle of Life")
	sha, _ := HA1(SHA256, "Mufasa", "http-auth@example.org", "Circle of Life")
	if md5 != "3d78807defe7de2157e2b0b6573a855f" || sha != "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232" {
		t.Fatalf("HA1: %s %s", md5, sha)
	}
	if _, ok := HA1("SHA-512-256", "a", "b", "c"); ok {
		t.Fatal("unknown algorithm accepted")
	}
	if !ValidHA1(MD5, md5) || !ValidHA1(SHA256, sha) || ValidHA1(MD5, sha) || ValidHA1(SHA256, md5) || ValidHA1(MD5, strings.ToUpper(md5)) {
		t.Fatal("ValidHA1")
	}
}

// FuzzParse: Parse never panics, and what it accepts is within the limits
// and prints back as the same string.
func FuzzParse(f *testing.F) {
	for _, s := range parseCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			return
		}
		if h.Memory > MaxMemory || h.Time > MaxTime || h.Threads > MaxThreads || h.Threads == 0 || h.Memory < 8*uint32(h.Threads) {
			t.Fatalf("out of bounds: %+v", h.Params)
		}
		if len(h.Salt) < minSalt || len(h.Salt) > maxSalt || len(h.Key) < minKey || len(h.Key) > maxKey {
			t.Fatalf("salt %d / key %d bytes", len(h.Salt), len(h.Key))
		}
		if h.String() != s {
			t.Fatalf("round trip: %q -> %q", s, h.String())
		}
	})
}
