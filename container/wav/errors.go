package wav

import "errors"

// Errors; branch on them with errors.Is.
var (
	// ErrNotWAV is a file that is not 16-bit PCM WAV.
	ErrNotWAV = errors.New("wav: not a 16-bit PCM WAV file")
	// ErrDamaged is a WAV file whose chunks run past its end.
	ErrDamaged = errors.New("wav: damaged file")
)
