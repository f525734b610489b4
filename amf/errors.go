package amf

import (
	"errors"
	"fmt"
)

// Sentinel errors. Decode errors are *DecodeError values wrapping one of
// these; test with errors.Is.
var (
	// ErrShortBuffer means the input ended inside a value.
	ErrShortBuffer = errors.New("unexpected end of input")
	// ErrUnknownMarker means a type marker that neither spec defines.
	ErrUnknownMarker = errors.New("unknown type marker")
	// ErrRefusedMarker means a marker the spec reserves and no player sends
	// (AMF0 movieclip and recordset).
	ErrRefusedMarker = errors.New("refused type marker")
	// ErrUnexpectedObjectEnd means an AMF0 object-end marker outside an object.
	ErrUnexpectedObjectEnd = errors.New("unexpected object-end marker")
	// ErrMissingObjectEnd means an empty property name not followed by the
	// object-end marker.
	ErrMissingObjectEnd = errors.New("missing object-end marker")
	// ErrBadReference means a reference to a value that is not (yet) in the
	// reference table.
	ErrBadReference = errors.New("bad reference")
	// ErrTooDeep means nesting deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("nesting too deep")
	// ErrTooManyElements means more values than Limits.MaxElements.
	ErrTooManyElements = errors.New("too many elements")
	// ErrTooLong means a length larger than the remaining input or than
	// Limits.MaxStringLen.
	ErrTooLong = errors.New("length too large")
	// ErrInvalidDate means a date that is not a finite number of
	// milliseconds within ActionScript's Date range.
	ErrInvalidDate = errors.New("invalid date")
	// ErrUnknownExternalizable means an AMF3 externalizable object of a class
	// this package cannot read; the DecodeError message names the class.
	ErrUnknownExternalizable = errors.New("unknown externalizable class")
	// ErrUnsupportedValue means the encoder was given a Go value it has no
	// AMF representation for.
	ErrUnsupportedValue = errors.New("unsupported value")
	// ErrValueTooLarge means a value that does not fit the wire format's
	// length fields (for example an AMF0 key longer than 65535 bytes).
	ErrValueTooLarge = errors.New("value too large for the wire format")
)

// DecodeError reports where and why decoding failed.
type DecodeError struct {
	// Format is 0 for AMF0 and 3 for AMF3.
	Format int
	// Offset is the byte offset in the input of the value being decoded.
	Offset int
	// Msg says what was being decoded.
	Msg string
	// Err is one of the package's sentinel errors.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("amf%d: offset %d: %s: %v", e.Format, e.Offset, e.Msg, e.Err)
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError reports why a value could not be encoded.
type EncodeError struct {
	// Format is 0 for AMF0 and 3 for AMF3.
	Format int
	// Path locates the value, like "[2].app" or "[0][3]".
	Path string
	// Msg says what went wrong.
	Msg string
	// Err is one of the package's sentinel errors.
	Err error
}

// Error implements error.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("amf%d encode %s: %s: %v", e.Format, e.Path, e.Msg, e.Err)
}

// Unwrap returns the sentinel error.
func (e *EncodeError) Unwrap() error { return e.Err }
