package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SELLO_MASTER_KEY", "")
	if _, err := loadMasterKey(dir, false); err == nil {
		t.Errorf("loadMasterKey(create=false) with no key = nil error")
	}
	first, err := loadMasterKey(dir, true)
	if err != nil {
		t.Fatalf("loadMasterKey (create) = %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, masterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("master.key mode = %v, want 0600", perm)
	}
	again, err := loadMasterKey(dir, false)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("loadMasterKey (reload) = %x, %v; want the same key %x", again, err, first)
	}

	env := bytes.Repeat([]byte{7}, 32)
	t.Setenv("SELLO_MASTER_KEY", base64.StdEncoding.EncodeToString(env))
	got, err := loadMasterKey(dir, false)
	if err != nil || !bytes.Equal(got, env) {
		t.Errorf("loadMasterKey with SELLO_MASTER_KEY = %x, %v; want %x", got, err, env)
	}
	t.Setenv("SELLO_MASTER_KEY", "c2hvcnQ=")
	if _, err := loadMasterKey(dir, false); err == nil {
		t.Errorf("loadMasterKey with a short SELLO_MASTER_KEY = nil error")
	}
}

func TestDataDirFlag(t *testing.T) {
	t.Setenv("SELLO_DATA_DIR", "")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	if got := *dataDirFlag(fs); got != defaultDataDir {
		t.Errorf("default data dir = %q, want %q", got, defaultDataDir)
	}
	t.Setenv("SELLO_DATA_DIR", "/srv/sello")
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	p := dataDirFlag(fs)
	if *p != "/srv/sello" {
		t.Errorf("data dir from env = %q, want /srv/sello", *p)
	}
	pos, err := parseArgs(fs, []string{"ID", "--data-dir", "/elsewhere", "MORE"})
	if err != nil {
		t.Fatal(err)
	}
	if *p != "/elsewhere" {
		t.Errorf("data dir from flag = %q, want /elsewhere", *p)
	}
	if diff := cmp.Diff([]string{"ID", "MORE"}, pos); diff != "" {
		t.Errorf("positional arguments (-want +got):\n%s", diff)
	}
}
