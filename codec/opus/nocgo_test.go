//go:build !cgo

package opus

import (
	"errors"
	"testing"
)

// TestUnavailable: without cgo both constructors say why, clearly.
func TestUnavailable(t *testing.T) {
	if _, err := NewDecoder(48000); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewDecoder: %v", err)
	}
	if _, err := NewEncoder(48000, EncoderOptions{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewEncoder: %v", err)
	}
}
