package config

import (
	"bytes"
	"testing"
)

// FuzzLoadFile feeds arbitrary bytes to the TOML loader. Properties: it
// never panics, and a file it accepts prints (Config.Print) to a file that
// loads to the same settings, secrets apart.
func FuzzLoadFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"addr = \":8080\"\n",
		"[sign]\nmax-documents = 3\nmax-document-bytes = \"1MB\"\n",
		"[token]\nttl = \"5m\"\n[identity]\nprovider = \"http\"\nurl = \"http://127.0.0.1:1\"\n",
		"[store]\ndsn-file = \"/nonexistent\"\n",
		"[metrics]\nenabled = false\n[log]\nformat = \"text\"\n",
		"a.b.c = [1, 2]\n",
		"data-dir = \"\\u00e9\\t\\\"x\\\"\"\n",
	} {
		f.Add([]byte(seed))
	}
	settings := Settings()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ps := loadFileOnly(settings, b)
		if len(ps) > 0 {
			return
		}
		var buf bytes.Buffer
		if err := c.Print(&buf); err != nil {
			t.Fatal(err)
		}
		again, ps := loadFileOnly(settings, buf.Bytes())
		if len(ps) > 0 {
			t.Fatalf("printed configuration does not load: %v\n%s", ps, buf.String())
		}
		for _, s := range settings {
			if s.Secret {
				continue
			}
			if a, b := s.text(c), s.text(again); a != b {
				t.Errorf("%s = %q after printing, want %q\n%s", s.Key, b, a, buf.String())
			}
		}
	})
}

// loadFileOnly applies a TOML document over the defaults, without
// validation.
func loadFileOnly(settings []Setting, b []byte) (*Config, problems) {
	var ps problems
	c := Defaults()
	c.apply(settings, fileLayer(settings, "fuzz.toml", b, &ps), &ps)
	return c, ps
}
