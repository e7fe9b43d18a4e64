package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"sello/internal/config"
)

var updateDocs = flag.Bool("update", false, "rewrite generated documentation")

// TestConfigurationReference keeps docs/configuration.md equal to what
// `sello serve --help` prints; run with -update to regenerate it.
func TestConfigurationReference(t *testing.T) {
	t.Parallel()
	var help bytes.Buffer
	if err := config.Usage(&help); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	doc.WriteString("# Configuration reference\n\n" +
		"Generated from `sello serve --help` (`go test ./cmd/sello -run TestConfigurationReference -update`).\n\n```text\n")
	doc.Write(help.Bytes())
	doc.WriteString("```\n")
	path := filepath.Join("..", "..", "docs", "configuration.md")
	if *updateDocs {
		if err := os.WriteFile(path, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, doc.Bytes()) {
		t.Errorf("%s is out of date with `sello serve --help`; run go test ./cmd/sello -run TestConfigurationReference -update", path)
	}
}
