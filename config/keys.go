package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var durationType = reflect.TypeOf(time.Duration(0))

func typeOf(c *Config) reflect.Type { return reflect.TypeOf(c).Elem() }

// checkKeys walks a YAML mapping beside the struct type it decodes into and
// names the first key the struct does not know, with its dotted path.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	switch t.Kind() {
	case reflect.Struct:
		if t == durationType {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return &Error{Key: orRoot(prefix), Msg: fmt.Sprintf("must be a mapping (line %d)", n.Line)}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(prefix, k.Value)
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				return &Error{Key: key, Msg: fmt.Sprintf("unknown key (line %d)", k.Line)}
			}
			if err := checkKeys(v, f.Type, key); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Key: prefix, Msg: fmt.Sprintf("must be a list (line %d)", n.Line)}
		}
		for i, e := range n.Content {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &Error{Key: prefix, Msg: fmt.Sprintf("must be a mapping (line %d)", n.Line)}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(n.Content[i+1], t.Elem(), join(prefix, n.Content[i].Value)); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return &Error{Key: prefix, Msg: fmt.Sprintf("must be a single value (line %d)", n.Line)}
		}
		if err := setScalar(reflect.New(t).Elem(), n.Value); err != nil {
			return &Error{Key: prefix, Msg: err.Error()}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.Split(f.Tag.Get("yaml"), ",")[0] == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func orRoot(s string) string {
	if s == "" {
		return "(root)"
	}
	return s
}

// applyEnv sets every scalar field named by FLASHVOX_<SECTION>_<KEY> (a
// top-level one by FLASHVOX_<KEY>). Unknown
// FLASHVOX_ variables are refused like unknown file keys, so a typo is loud.
func applyEnv(c *Config, environ []string) error {
	fields := map[string]reflect.Value{}
	keys := map[string]string{}
	root := reflect.ValueOf(c).Elem()
	for i := range root.NumField() {
		sec := root.Field(i)
		secTag := strings.Split(root.Type().Field(i).Tag.Get("yaml"), ",")[0]
		if sec.Kind() != reflect.Struct { // a top-level scalar (data_dir): FLASHVOX_<KEY>
			if k := sec.Kind(); k != reflect.Slice && k != reflect.Map {
				name := "FLASHVOX_" + strings.ToUpper(secTag)
				fields[name], keys[name] = sec, secTag
			}
			continue
		}
		for j := range sec.NumField() {
			f := sec.Field(j)
			tag := strings.Split(sec.Type().Field(j).Tag.Get("yaml"), ",")[0]
			if f.Kind() == reflect.Slice || f.Kind() == reflect.Map || (f.Kind() == reflect.Struct && f.Type() != durationType) {
				continue
			}
			name := "FLASHVOX_" + strings.ToUpper(secTag) + "_" + strings.ToUpper(tag)
			fields[name] = f
			keys[name] = secTag + "." + tag
		}
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "FLASHVOX_") {
			continue
		}
		f, known := fields[name]
		if !known {
			return &Error{Key: name, Msg: "unknown environment override"}
		}
		if err := setScalar(f, val); err != nil {
			return &Error{Key: keys[name], Msg: fmt.Sprintf("%v (from %s)", err, name)}
		}
	}
	return nil
}

func setScalar(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("must be a duration like 5s or 250ms, got %q", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", s)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}
