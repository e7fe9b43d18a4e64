package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// EnvConfig names the environment variable that names the TOML file, when
// the -config flag does not.
const EnvConfig = "SELLO_CONFIG"

// maxSecretFile bounds a file read for a secret setting.
const maxSecretFile = 64 << 10

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the file key of the setting concerned, "" when the problem
	// concerns no single setting (a malformed file, an unknown flag).
	Key string
	// Source is where the bad value came from: "flag -NAME", "env NAME",
	// "file PATH" or "file"; "" for a default, or for a problem found by
	// [Config.Validate] called directly.
	Source string
	// Message says what is wrong, without the key or source.
	Message string
}

// String returns "KEY (SOURCE): MESSAGE", leaving out what is empty.
func (p Problem) String() string {
	switch {
	case p.Key != "" && p.Source != "":
		return p.Key + " (" + p.Source + "): " + p.Message
	case p.Key != "":
		return p.Key + ": " + p.Message
	case p.Source != "":
		return p.Source + ": " + p.Message
	}
	return p.Message
}

// Error lists every problem found in one pass over the configuration.
// [Load] and [Config.Validate] return it.
type Error struct {
	Problems []Problem
}

// Error returns the problems, one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "config: " + lines[0]
	}
	return "config: " + fmt.Sprint(len(lines)) + " problems:\n  " + strings.Join(lines, "\n  ")
}

// problems collects Problems.
type problems []Problem

func (ps *problems) add(key, source, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Source: source, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// Defaults returns a Config holding every setting's default.
func Defaults() *Config {
	c := &Config{sources: make(map[string]string)}
	for _, s := range Settings() {
		if err := s.set(c, s.Default); err != nil {
			// Defaults are constants of this package; TestDefaults checks them.
			panic("config: bad default of " + s.Key + ": " + err.Error())
		}
		c.sources[s.Key] = "default"
	}
	return c
}

// layer is the raw text of the settings one source gives, by key, with
// the secrets it gives as file names apart.
type layer struct {
	values map[string]string
	files  map[string]string
	// names and fileNames name the source of each entry, for messages.
	names, fileNames map[string]string
}

func newLayer() layer {
	return layer{values: map[string]string{}, files: map[string]string{},
		names: map[string]string{}, fileNames: map[string]string{}}
}

// Load reads the settings of sello serve. It starts from the defaults and
// applies, each over the one before, the TOML file named by -config or
// SELLO_CONFIG, the SELLO_* environment variables read with lookupEnv
// (os.LookupEnv in production; empty variables count as unset), and the
// flags in args, which may be written -name or --name. It then validates
// the result.
//
// Load returns flag.ErrHelp when args ask for help; otherwise every problem
// found, in all sources and by [Config.Validate], is listed in one *Error.
func Load(args []string, lookupEnv func(string) (string, bool)) (*Config, error) {
	settings := Settings()
	var ps problems

	flags, configFlag, printConfig, err := parseFlags(settings, args, &ps)
	if err != nil {
		return nil, err
	}

	c := Defaults()
	c.PrintConfig = printConfig
	switch {
	case configFlag != "":
		c.ConfigFile = configFlag
	default:
		if v, ok := lookupEnv(EnvConfig); ok && v != "" {
			c.ConfigFile = v
		}
	}
	if c.ConfigFile != "" {
		b, err := os.ReadFile(c.ConfigFile)
		if err != nil {
			ps.add("", "file "+c.ConfigFile, "cannot read the configuration file: %v", err)
		} else {
			c.apply(settings, fileLayer(settings, c.ConfigFile, b, &ps), &ps)
		}
	}
	c.apply(settings, envLayer(settings, lookupEnv), &ps)
	c.apply(settings, flags, &ps)

	if err := c.Validate(); err != nil {
		for _, p := range err.(*Error).Problems {
			// Say where a wrong value came from, when not from the
			// defaults.
			if src := c.Source(p.Key); src != "default" {
				p.Source = src
			}
			ps = append(ps, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseFlags reads args into a layer. Problems of values are reported
// later, when the layer is applied; unknown flags and stray arguments are
// added to ps now.
func parseFlags(settings []Setting, args []string, ps *problems) (l layer, configFile string, printConfig bool, err error) {
	l = newLayer()
	fs := flag.NewFlagSet("sello serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&configFile, "config", "", "")
	fs.BoolVar(&printConfig, "print-config", false, "")
	for _, s := range settings {
		record := func(v string) error {
			l.values[s.Key] = v
			l.names[s.Key] = "flag -" + s.Flag()
			return nil
		}
		if s.Type == "bool" {
			fs.BoolFunc(s.Flag(), s.Help, record)
		} else {
			fs.Func(s.Flag(), s.Help, record)
		}
		if s.Secret {
			fs.Func(s.Flag()+"-file", "", func(v string) error {
				l.files[s.Key] = v
				l.fileNames[s.Key] = "flag -" + s.Flag() + "-file"
				return nil
			})
		}
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return l, "", false, flag.ErrHelp
		}
		ps.add("", "flags", "%v", err)
		return l, configFile, printConfig, nil
	}
	if fs.NArg() > 0 {
		ps.add("", "flags", "unexpected argument %q", fs.Arg(0))
	}
	return l, configFile, printConfig, nil
}

// envLayer reads SELLO_* variables, and SELLO_*_FILE for secrets. Giving
// both for one setting is reported when the layer is applied.
func envLayer(settings []Setting, lookupEnv func(string) (string, bool)) layer {
	l := newLayer()
	for _, s := range settings {
		if v, ok := lookupEnv(s.Env()); ok && v != "" {
			l.values[s.Key] = v
			l.names[s.Key] = "env " + s.Env()
		}
		if !s.Secret {
			continue
		}
		if v, ok := lookupEnv(s.Env() + "_FILE"); ok && v != "" {
			l.files[s.Key] = v
			l.fileNames[s.Key] = "env " + s.Env() + "_FILE"
		}
	}
	return l
}

// fileLayer decodes a TOML file. Values stay typed, so the layer holds
// them as they were decoded; see setTOML.
func fileLayer(settings []Setting, path string, b []byte, ps *problems) tomlLayer {
	source := "file " + path
	tl := tomlLayer{source: source, values: map[string]any{}, files: map[string]string{}}
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		ps.add("", source, "%v", err)
		return tl
	}
	byKey := make(map[string]Setting, len(settings))
	for _, s := range settings {
		byKey[s.Key] = s
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			full, v := prefix+k, m[k]
			if sub, ok := v.(map[string]any); ok {
				walk(full+".", sub)
				continue
			}
			if _, ok := byKey[full]; ok {
				tl.values[full] = v
				continue
			}
			base, isFile := strings.CutSuffix(full, "-file")
			if s, ok := byKey[base]; isFile && ok && s.Secret {
				name, ok := v.(string)
				if !ok {
					ps.add(full, source, "want a string naming a file, got %T", v)
					continue
				}
				tl.files[base] = name
				continue
			}
			ps.add(full, source, "unknown setting")
		}
	}
	walk("", doc)
	return tl
}

// tomlLayer is the settings of the file, typed as TOML decoded them.
type tomlLayer struct {
	source string
	values map[string]any
	files  map[string]string
}

// applier is a source of settings: a layer of text or the TOML file.
type applier interface {
	applyTo(c *Config, s Setting, ps *problems)
}

func (c *Config) apply(settings []Setting, a applier, ps *problems) {
	for _, s := range settings {
		a.applyTo(c, s, ps)
	}
}

func (l layer) applyTo(c *Config, s Setting, ps *problems) {
	v, hasValue := l.values[s.Key]
	file, hasFile := l.files[s.Key]
	switch {
	case hasValue && hasFile:
		ps.add(s.Key, l.names[s.Key]+" and "+l.fileNames[s.Key], "give the value or a file, not both")
	case hasFile:
		c.setFromFile(s, l.fileNames[s.Key], file, ps)
	case hasValue:
		if err := s.set(c, v); err != nil {
			ps.add(s.Key, l.names[s.Key], "%v", err)
			return
		}
		c.sources[s.Key] = l.names[s.Key]
	}
}

func (tl tomlLayer) applyTo(c *Config, s Setting, ps *problems) {
	v, hasValue := tl.values[s.Key]
	file, hasFile := tl.files[s.Key]
	switch {
	case hasValue && hasFile:
		ps.add(s.Key, tl.source, "give %s or %s-file, not both", s.Key, s.Key)
	case hasFile:
		c.setFromFile(s, tl.source, file, ps)
	case hasValue:
		if err := s.setTOML(c, v); err != nil {
			ps.add(s.Key, tl.source, "%v", err)
			return
		}
		c.sources[s.Key] = "file"
	}
}

// setFromFile sets a secret from the contents of a file, without its
// final line break.
func (c *Config) setFromFile(s Setting, source, path string, ps *problems) {
	f, err := os.Open(path)
	if err != nil {
		ps.add(s.Key, source, "cannot read the secret's file: %v", err)
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		ps.add(s.Key, source, "cannot read the secret's file: %v", err)
		return
	}
	if len(b) > maxSecretFile {
		ps.add(s.Key, source, "the secret's file %s is larger than %d bytes", path, maxSecretFile)
		return
	}
	if err := s.set(c, strings.TrimRight(string(b), "\r\n")); err != nil {
		// Never echo a secret's value in the message.
		ps.add(s.Key, source, "the secret's file %s does not hold a valid value", path)
		return
	}
	c.sources[s.Key] = source
}
