package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Setting describes one setting of [Config]: its names in each source and
// its documentation.
type Setting struct {
	// Key is the setting's file key, such as "store.dsn".
	Key string
	// Help is the one-line description shown by the usage text.
	Help string
	// Default is the default value as text; "" means empty.
	Default string
	// Secret settings are redacted by [Config.Print] and may also be read
	// from a file named by the -KEY-file flag, the SELLO_KEY_FILE variable
	// or the KEY-file file key.
	Secret bool
	// Type names the kind of value: string, bool, int, duration or size.
	Type string

	index []int
}

// Flag returns the flag name without dashes: "store-dsn" for "store.dsn".
func (s Setting) Flag() string { return strings.ReplaceAll(s.Key, ".", "-") }

// Env returns the environment variable: "SELLO_STORE_DSN" for "store.dsn".
func (s Setting) Env() string {
	return "SELLO_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(s.Key))
}

// Settings returns every setting of Config in declaration order.
func Settings() []Setting {
	var out []Setting
	collect(reflect.TypeFor[Config](), "", nil, &out)
	return out
}

func collect(t reflect.Type, prefix string, index []int, out *[]Setting) {
	for i := range t.NumField() {
		f := t.Field(i)
		key, ok := f.Tag.Lookup("key")
		if !ok || key == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		full := prefix + key
		if f.Type.Kind() == reflect.Struct {
			collect(f.Type, full+".", idx, out)
			continue
		}
		*out = append(*out, Setting{
			Key:     full,
			Help:    f.Tag.Get("help"),
			Default: f.Tag.Get("default"),
			Secret:  f.Tag.Get("secret") == "true",
			Type:    typeName(f.Type),
			index:   idx,
		})
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration"
	case t == reflect.TypeFor[ByteSize]():
		return "size"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Int:
		return "int"
	case t.Kind() == reflect.String:
		return "string"
	}
	// Only the types above may be declared in Config; TestSettings checks.
	panic("config: unsupported setting type " + t.String())
}

// field returns the addressable field of c that holds s.
func (s Setting) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(s.index)
}

// set parses text into s's field of c.
func (s Setting) set(c *Config, text string) error {
	v := s.field(c)
	switch s.Type {
	case "duration":
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("not a duration (like 30s, 5m, 1h): %q", text)
		}
		v.SetInt(int64(d))
	case "size":
		n, err := ParseByteSize(text)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case "bool":
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("not a boolean (true or false): %q", text)
		}
		v.SetBool(b)
	case "int":
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("not a whole number: %q", text)
		}
		v.SetInt(int64(n))
	default:
		v.SetString(text)
	}
	return nil
}

// setTOML sets s's field of c from a value decoded from the TOML file:
// strings are parsed like flag values, integers are accepted for int and
// size settings, booleans for bool settings.
func (s Setting) setTOML(c *Config, val any) error {
	switch x := val.(type) {
	case string:
		if s.Type == "string" {
			s.field(c).SetString(x)
			return nil
		}
		if s.Type == "bool" || s.Type == "int" {
			return fmt.Errorf("want a TOML %s, not a string", tomlKind(s.Type))
		}
		return s.set(c, x)
	case int64:
		switch s.Type {
		case "int":
			if int64(int(x)) != x {
				return fmt.Errorf("%d is out of range", x)
			}
			s.field(c).SetInt(x)
			return nil
		case "size":
			if x < 0 {
				return fmt.Errorf("a size cannot be negative: %d", x)
			}
			s.field(c).SetInt(x)
			return nil
		}
	case bool:
		if s.Type == "bool" {
			s.field(c).SetBool(x)
			return nil
		}
	}
	return fmt.Errorf("want a TOML %s, got %T", tomlKind(s.Type), val)
}

func tomlKind(typ string) string {
	switch typ {
	case "duration":
		return `string such as "30s"`
	case "size":
		return `integer or a string such as "50MB"`
	case "bool":
		return "boolean"
	case "int":
		return "integer"
	}
	return "string"
}

// text returns s's value in c as text, the form set parses.
func (s Setting) text(c *Config) string {
	v := s.field(c)
	switch s.Type {
	case "duration":
		return time.Duration(v.Int()).String()
	case "size":
		return ByteSize(v.Int()).String()
	case "bool":
		return strconv.FormatBool(v.Bool())
	case "int":
		return strconv.FormatInt(v.Int(), 10)
	}
	return v.String()
}
