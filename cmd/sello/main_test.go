package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sello/internal/corpus"
)

// softhsm is the SoftHSM2 set-up shared by this package's tests, or why
// there is none. SoftHSM reads SOFTHSM2_CONF once per process, so the
// configuration and its token are made before any test runs.
var softhsm struct {
	conf, skip string
}

const (
	softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"
	softhsmToken  = "sello-e2e"
	softhsmPIN    = "1234"
)

func TestMain(m *testing.M) {
	dir, skip := setUpSoftHSM()
	softhsm.skip = skip
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func setUpSoftHSM() (dir, skip string) {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return "", "softhsm2-util not found (install the softhsm2 package)"
	}
	if _, err := os.Stat(softhsmModule); err != nil {
		return "", fmt.Sprintf("SoftHSM2 module: %v", err)
	}
	if dir, err = os.MkdirTemp("", "sello-e2e-softhsm-"); err != nil {
		return "", err.Error()
	}
	tokens := filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return dir, err.Error()
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return dir, err.Error()
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", softhsmToken, "--pin", softhsmPIN, "--so-pin", "5678").CombinedOutput()
	if err != nil {
		return dir, fmt.Sprintf("softhsm2-util --init-token: %v: %s", err, out)
	}
	return dir, ""
}

// mustSoftHSM skips the test when SoftHSM2 is missing, or fails it when
// SELLO_TEST_REQUIRE names softhsm.
func mustSoftHSM(t *testing.T) {
	t.Helper()
	if softhsm.skip != "" {
		corpus.Require(t, "softhsm", softhsm.skip)
	}
}
