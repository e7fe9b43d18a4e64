// Package corpus gives tests the shared corpus of real-world PDFs, its
// manifest and the independent verifier script, which live beside the
// repository in ../shared. Tests skip when they are absent, unless
// SELLO_TEST_REQUIRE names "corpus".
package corpus

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Entry is one row of corpus/MANIFEST.tsv.
type Entry struct {
	File     string
	Features string
	// Pages is the page count, or 0 when the manifest gives none (files
	// that cannot be opened).
	Pages    int
	Expected string // "sign" or "reject"
	Reason   string
}

// Root returns the shared folder (holding corpus/ and tools/), found by
// walking up from the working directory to the module root and looking
// beside it, or from SELLO_SHARED_DIR. It returns "" when there is none.
func Root() string {
	if d := os.Getenv("SELLO_SHARED_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(filepath.Join(shared, "corpus", "MANIFEST.tsv")); err == nil {
				return shared
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the corpus folder, or skips the test when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	root := Root()
	if root == "" {
		Require(t, "corpus", "the shared corpus (../shared/corpus) is not present")
	}
	return filepath.Join(root, "corpus")
}

// Manifest returns the corpus manifest's rows.
func Manifest(t testing.TB) []Entry {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Entry
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for first := true; s.Scan(); first = false {
		cols := strings.Split(s.Text(), "\t")
		if first || len(cols) < 9 {
			continue
		}
		pages, _ := strconv.Atoi(strings.Fields(cols[4] + " x")[0])
		out = append(out, Entry{File: cols[0], Features: cols[3], Pages: pages, Expected: cols[7], Reason: cols[8]})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Verifier returns the path of tools/verify-signed.sh, after checking that
// the tools it runs are installed; it skips the test otherwise, unless
// SELLO_TEST_REQUIRE asks for them.
func Verifier(t testing.TB) string {
	t.Helper()
	root := Root()
	if root == "" {
		Require(t, "corpus", "the shared tools (../shared/tools) are not present")
	}
	for _, tool := range []string{"qpdf", "pdfsig", "mutool"} {
		if _, err := exec.LookPath(tool); err != nil {
			Require(t, tool, tool+" is not installed")
		}
	}
	return filepath.Join(root, "tools", "verify-signed.sh")
}

// Require skips the test for a missing dependency, or fails it when
// SELLO_TEST_REQUIRE (a comma-separated list) names that dependency.
func Require(t testing.TB, name, why string) {
	t.Helper()
	for _, r := range strings.Split(os.Getenv("SELLO_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(r) == name {
			t.Fatalf("%s (required by SELLO_TEST_REQUIRE)", why)
		}
	}
	t.Skip(why)
}
