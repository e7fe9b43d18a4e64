package pkitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sello/internal/corpus"
)

// OpenSSL runs the openssl command, an implementation we did not write,
// with args and returns its combined output; the test fails when the
// command does. It skips the test when openssl is missing, or fails it when
// SELLO_TEST_REQUIRE names openssl.
func OpenSSL(t testing.TB, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		corpus.Require(t, "openssl", "openssl is not installed")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", args[0], err, out)
	}
	return out
}

// TempFile writes data to a new file called name in a temporary directory
// of t and returns its path.
func TempFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
