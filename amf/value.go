package amf

import "fmt"

// UndefinedType is the type of ActionScript's undefined (AMF0 0x06, AMF3 0x00).
type UndefinedType struct{}

// Undefined is the undefined value.
var Undefined = UndefinedType{}

// UnsupportedType is the AMF0 unsupported marker (0x0D), sent for values the
// sender could not serialise.
type UnsupportedType struct{}

// Prop is one key/value member of an object or associative array.
type Prop struct {
	Key   string
	Value any
}

// Object is an ActionScript object with its members in wire order. Class is
// "" for anonymous objects and the alias for typed objects. Decoders return
// *Object so that references share one value.
type Object struct {
	Class string
	Props []Prop
}

// NewObject builds an anonymous object from alternating keys and values:
// NewObject("level", "status", "code", "NetStream.Play.Start"). It panics on
// an odd argument count or a non-string key, which are programmer errors.
func NewObject(kv ...any) *Object {
	if len(kv)%2 != 0 {
		panic("amf.NewObject: odd number of arguments")
	}
	o := &Object{Props: make([]Prop, 0, len(kv)/2)}
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			panic(fmt.Sprintf("amf.NewObject: key %d is %T, not string", i/2, kv[i]))
		}
		o.Props = append(o.Props, Prop{Key: k, Value: kv[i+1]})
	}
	return o
}

// Get returns the value of the first member named key.
func (o *Object) Get(key string) (any, bool) {
	return getProp(o.Props, key)
}

// GetString returns the member named key if it is a string, else "".
func (o *Object) GetString(key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}

// GetNumber returns the member named key if it is a number.
func (o *Object) GetNumber(key string) (float64, bool) {
	v, _ := o.Get(key)
	f, ok := v.(float64)
	return f, ok
}

// Set replaces the value of the first member named key, or appends it.
func (o *Object) Set(key string, v any) {
	o.Props = setProp(o.Props, key, v)
}

// ECMAArray is an AMF0 ECMA array (associative array), used by onMetaData.
// Decoders return *ECMAArray.
type ECMAArray struct {
	Props []Prop
}

// Get returns the value of the first member named key.
func (a *ECMAArray) Get(key string) (any, bool) {
	return getProp(a.Props, key)
}

// Set replaces the value of the first member named key, or appends it.
func (a *ECMAArray) Set(key string, v any) {
	a.Props = setProp(a.Props, key, v)
}

// MixedArray is an AMF3 array with both an associative and a dense part
// (AMF3 spec §3.11). Arrays with only one part decode as []any or
// *ECMAArray.
type MixedArray struct {
	Assoc []Prop
	Dense []any
}

// XMLDocument is an AMF0 XML document (0x0F) or AMF3 legacy
// flash.xml.XMLDocument (0x07).
type XMLDocument string

// XML is an AMF3 E4X XML value (0x0B).
type XML string

// DictEntry is one entry of a Dictionary.
type DictEntry struct {
	Key   any
	Value any
}

// Dictionary is an AMF3 flash.utils.Dictionary (0x11): entries in wire
// order, keys of any type.
type Dictionary struct {
	Weak    bool
	Entries []DictEntry
}

// ObjectVector is an AMF3 Vector.<T> of objects (0x10), for encoding.
// Decoding returns its items as []any.
type ObjectVector struct {
	TypeName string // "" for Vector.<*>, else the element class alias
	Fixed    bool
	Items    []any
}

// ArrayCollection is Flex's externalizable flex.messaging.io.ArrayCollection;
// Source is usually []any.
type ArrayCollection struct {
	Source any
}

// ObjectProxy is Flex's externalizable flex.messaging.io.ObjectProxy; Object
// is usually an anonymous *Object.
type ObjectProxy struct {
	Object any
}

// AVMPlus makes Encode0 write Value in AMF3 behind an avmplus-object marker
// (0x11), as Flash Player does for AMF3 command messages.
type AVMPlus struct {
	Value any
}

// Limits bound what a decoder accepts. The zero value means the defaults.
type Limits struct {
	// MaxDepth bounds the nesting of containers; default 64.
	MaxDepth int
	// MaxElements bounds the total number of values decoded, container
	// members included; default 1<<20.
	MaxElements int
	// MaxStringLen bounds each string, XML and ByteArray length; default
	// 16 MiB (the largest RTMP message).
	MaxStringLen int
}

// Default limits.
const (
	DefaultMaxDepth     = 64
	DefaultMaxElements  = 1 << 20
	DefaultMaxStringLen = 1 << 24
)

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxStringLen <= 0 {
		l.MaxStringLen = DefaultMaxStringLen
	}
	return l
}

func getProp(props []Prop, key string) (any, bool) {
	for _, p := range props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

func setProp(props []Prop, key string, v any) []Prop {
	for i := range props {
		if props[i].Key == key {
			props[i].Value = v
			return props
		}
	}
	return append(props, Prop{Key: key, Value: v})
}
