package config

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// redacted replaces the value of a secret that is set.
const redacted = "[redacted]"

// Print writes the effective settings to w as a TOML document that [Load]
// accepts, each line followed by the source of its value. Secrets that are
// set show as "[redacted]".
func (c *Config) Print(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# Effective settings of sello serve (secrets redacted).")
	if c.ConfigFile != "" {
		fmt.Fprintf(bw, "# Configuration file: %s\n", c.ConfigFile)
	}
	section := ""
	for _, s := range Settings() {
		sec, name := splitKey(s.Key)
		if sec != section {
			fmt.Fprintf(bw, "\n[%s]\n", sec)
			section = sec
		}
		fmt.Fprintf(bw, "%s = %s # %s\n", name, c.tomlValue(s), c.Source(s.Key))
	}
	return bw.Flush()
}

// splitKey splits "store.dsn" into its table and name.
func splitKey(key string) (section, name string) {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// tomlValue renders s's value in c as a TOML value.
func (c *Config) tomlValue(s Setting) string {
	switch s.Type {
	case "bool", "int":
		return s.text(c)
	case "duration":
		return tomlString(formatDuration(time.Duration(s.field(c).Int())))
	}
	v := s.text(c)
	if s.Secret && v != "" {
		v = redacted
	}
	return tomlString(v)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatDuration writes d without zero trailing units: "1h", "1h30m",
// "2m", "30s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Usage writes the help of sello serve to w: how the sources combine and
// every setting with its flag, environment variable, file key and default.
func Usage(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, `Usage: sello serve [flags]

Runs the signing service. Every setting below can be given as a flag (-name
or --name), as an environment variable, or as a key in a TOML file named by
-config or SELLO_CONFIG ([section] tables for dotted keys). Flags win over
the environment, which wins over the file, which wins over the defaults.
Secrets can also be read from a file: -name-file, SELLO_NAME_FILE or the
file key name-file; a final line break in that file is ignored.

  -config file
        TOML file with settings (env SELLO_CONFIG)
  -print-config
        print the effective settings, secrets redacted, and exit

Settings:
`)
	for _, s := range Settings() {
		fmt.Fprintf(bw, "  -%s", s.Flag())
		if s.Type != "bool" {
			fmt.Fprintf(bw, " %s", s.Type)
		}
		fmt.Fprintf(bw, "\n        %s", s.Help)
		if s.Default != "" && !(s.Type == "bool" && s.Default == "false") {
			def := s.Default
			if s.Type == "string" {
				def = strconv.Quote(def)
			}
			fmt.Fprintf(bw, " (default %s)", def)
		}
		fmt.Fprintf(bw, "\n        env %s, file key %s", s.Env(), s.Key)
		if s.Secret {
			fmt.Fprintf(bw, "; secret: also -%s-file, %s_FILE", s.Flag(), s.Env())
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}
