// Package amf encodes and decodes Action Message Format values, AMF0 and
// AMF3, the serialisation RTMP uses for commands, data messages and shared
// objects.
//
// The wire formats follow Adobe's "Action Message Format -- AMF 0" (2007)
// and "Action Message Format -- AMF 3" (2013) specifications; section
// numbers in comments refer to those documents.
//
// # Value model
//
// Decoding produces plain Go values:
//
//	AMF0 / AMF3                       Go
//	number, AMF3 double               float64
//	AMF3 integer (U29, sign-extended) float64 (so that 1 and 1.0 compare equal whatever the peer chose)
//	boolean                           bool
//	string, long string               string
//	null                              nil
//	undefined                         Undefined
//	unsupported (AMF0)                UnsupportedType{}
//	object, typed object              *Object (Class "" for anonymous objects)
//	ECMA array                        *ECMAArray
//	strict array, AMF3 dense array    []any
//	AMF3 associative-only array       *ECMAArray
//	AMF3 array with both parts        *MixedArray
//	date                              time.Time (UTC, whole milliseconds)
//	XML document                      XMLDocument
//	AMF3 XML (E4X)                    XML
//	AMF3 ByteArray                    []byte
//	AMF3 Vector.<int|uint|Number>     []int32, []uint32, []float64
//	AMF3 Vector.<Object>              []any (type name and fixed flag are dropped)
//	AMF3 Dictionary                   *Dictionary
//	flex.messaging.io.ArrayCollection *ArrayCollection
//	flex.messaging.io.ObjectProxy     *ObjectProxy
//
// Encoders accept all of the above plus Object and ECMAArray values, Go
// integer types, float32, map[string]any (keys sorted, so output is
// deterministic), []string, ObjectVector and AVMPlus. Encode0 switches to
// AMF3 (avmplus-object marker) for values AMF0 cannot express, such as
// []byte or vectors.
//
// # Hostile input
//
// Decoders never panic, check every length read from the input against the
// bytes that remain before allocating, bound nesting depth (Limits), and
// accept only references to values that precede them. A decode allocates
// at most a small constant multiple of the input length. Errors are
// *DecodeError values carrying the byte offset; branch on the sentinels in
// errors.go with errors.Is.
//
// # Reference tables
//
// Every AMF3 value at the top level of Decode3/Encode3, and every
// avmplus-object switch inside AMF0, starts with empty string, object and
// traits tables. AMF0 object references span the whole Decode0/Encode0
// call.
package amf
