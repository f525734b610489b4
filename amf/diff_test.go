package amf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bluenviron/gortmplib/pkg/amf0"
)

// toGortmplib converts our decoded values to gortmplib's amf0 model. ok is
// false for values gortmplib cannot represent.
func toGortmplib(v any) (any, bool) {
	switch v := v.(type) {
	case float64, bool, string, nil:
		return v, true
	case UndefinedType:
		return amf0.Undefined{}, true
	case *Object:
		if v.Class != "" {
			return nil, false
		}
		o := amf0.Object{}
		for _, p := range v.Props {
			pv, ok := toGortmplib(p.Value)
			if !ok {
				return nil, false
			}
			o = append(o, amf0.ObjectEntry{Key: p.Key, Value: pv})
		}
		return o, true
	case *ECMAArray:
		a := amf0.ECMAArray{}
		for _, p := range v.Props {
			pv, ok := toGortmplib(p.Value)
			if !ok {
				return nil, false
			}
			a = append(a, amf0.ObjectEntry{Key: p.Key, Value: pv})
		}
		return a, true
	case []any:
		a := amf0.StrictArray{}
		for _, e := range v {
			ev, ok := toGortmplib(e)
			if !ok {
				return nil, false
			}
			a = append(a, ev)
		}
		return a, true
	}
	return nil, false
}

// diffGortmplib decodes in with both decoders and reports a disagreement.
// gortmplib v1.0.0 knows number, boolean, string, object, null, undefined,
// ECMA array and strict array, has no depth limit, and fails on any other
// marker with "unsupported marker".
func diffGortmplib(in []byte) error {
	theirs, theirErr := amf0.Unmarshal(in)
	ours, ourErr := Decode0(in)
	switch {
	case theirErr != nil && ourErr != nil:
		return nil
	case theirErr != nil:
		if strings.HasPrefix(theirErr.Error(), "unsupported marker") {
			return nil // a marker only we implement
		}
		return fmt.Errorf("gortmplib failed (%v), we decoded %#v", theirErr, ours)
	case ourErr != nil:
		if errors.Is(ourErr, ErrTooDeep) || errors.Is(ourErr, ErrTooManyElements) || errors.Is(ourErr, ErrTooLong) {
			return nil // our limits
		}
		return fmt.Errorf("we failed (%v), gortmplib decoded %#v", ourErr, theirs)
	}
	var conv []any
	for _, v := range ours {
		c, ok := toGortmplib(v)
		if !ok {
			return fmt.Errorf("gortmplib decoded %#v, we decoded an unexpected %#v", theirs, v)
		}
		conv = append(conv, c)
	}
	if got, want := fmt.Sprintf("%#v", conv), fmt.Sprintf("%#v", []any(theirs)); got != want {
		return fmt.Errorf("values differ:\n ours %s\ntheirs %s", got, want)
	}
	return nil
}

// TestDifferentialGortmplib runs every AMF0 vector and capture through both
// decoders.
func TestDifferentialGortmplib(t *testing.T) {
	var inputs [][]byte
	for _, tc := range amf0Vectors {
		inputs = append(inputs, tc.wire)
	}
	for _, tc := range amf0BadInputs {
		inputs = append(inputs, tc.wire)
	}
	for _, c := range ffmpegCaptures {
		inputs = append(inputs, readTestdata(t, c.file))
	}
	for i, in := range inputs {
		if err := diffGortmplib(in); err != nil {
			t.Errorf("input %d (% x): %v", i, in, err)
		}
	}
}
