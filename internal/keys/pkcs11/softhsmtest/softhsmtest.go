// Package softhsmtest sets up SoftHSM2 tokens for tests, like
// net/http/httptest does servers. SoftHSM2 reads SOFTHSM2_CONF once per
// process, when the module is first loaded, so a test binary calls Setup
// from TestMain, before any test loads the module.
package softhsmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Module is where Debian's softhsm2 package installs the PKCS#11 module.
const Module = "/usr/lib/softhsm/libsofthsm2.so"

// Setup writes a SoftHSM2 configuration whose token directory is in a new
// temporary directory, sets SOFTHSM2_CONF to it for the whole process, and
// initialises one token per label with the given user and security-officer
// PINs. It returns that directory, for the caller to remove, and an empty
// skip; or, when SoftHSM2 is missing or fails, the reason to skip the tests
// (dir may then still need removing).
func Setup(labels []string, userPIN, soPIN string) (dir, skip string) {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return "", "softhsm2-util not found (install the softhsm2 package)"
	}
	if _, err := os.Stat(Module); err != nil {
		return "", fmt.Sprintf("SoftHSM2 module: %v", err)
	}
	if dir, err = os.MkdirTemp("", "sello-softhsm-"); err != nil {
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
	for _, label := range labels {
		out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", userPIN, "--so-pin", soPIN).CombinedOutput()
		if err != nil {
			return dir, fmt.Sprintf("softhsm2-util --init-token: %v: %s", err, out)
		}
	}
	return dir, ""
}
