package main

import (
	"os"
	"testing"

	"sello/internal/corpus"
	"sello/internal/keys/pkcs11/softhsmtest"
)

// softhsm is the SoftHSM2 set-up shared by this package's tests, or why
// there is none. SoftHSM reads SOFTHSM2_CONF once per process, so the
// configuration and its token are made before any test runs.
var softhsm struct {
	conf, skip string
}

const (
	softhsmModule = softhsmtest.Module
	softhsmToken  = "sello-e2e"
	softhsmPIN    = "1234"
)

func TestMain(m *testing.M) {
	dir, skip := softhsmtest.Setup([]string{softhsmToken}, softhsmPIN, "5678")
	softhsm.skip = skip
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// mustSoftHSM skips the test when SoftHSM2 is missing, or fails it when
// SELLO_TEST_REQUIRE names softhsm.
func mustSoftHSM(t *testing.T) {
	t.Helper()
	if softhsm.skip != "" {
		corpus.Require(t, "softhsm", softhsm.skip)
	}
}
