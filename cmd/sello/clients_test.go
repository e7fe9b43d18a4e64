package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runCmd runs a sello command in-process and returns its exit code and
// output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRunJSON runs a command that must succeed and decodes its JSON output.
func mustRunJSON[T any](t *testing.T, args ...string) T {
	t.Helper()
	code, stdout, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("sello %s = exit %d, stderr %q", strings.Join(args, " "), code, stderr)
	}
	var v T
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("sello %s: output %q is not JSON: %v", strings.Join(args, " "), stdout, err)
	}
	return v
}

func TestClientsLifecycle(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	created := mustRunJSON[map[string]string](t, "clients", "create", "--data-dir", dir,
		"--account", "ACME", "--project", "payroll", "--project", "hr", "--name", "Payroll portal", "--json")
	id, secret := created["client_id"], created["client_secret"]
	if id == "" || len(secret) < 43 || len(created) != 2 {
		t.Fatalf("create --json = %v, want client_id and a 256-bit client_secret only", created)
	}

	list := mustRunJSON[[]clientJSON](t, "clients", "list", "--data-dir", dir, "--json")
	if len(list) != 1 {
		t.Fatalf("list = %d clients, want 1", len(list))
	}
	want := clientJSON{ClientID: id, Account: "ACME", Projects: []string{"hr", "payroll"}, Name: "Payroll portal",
		CreatedAt: list[0].CreatedAt, UpdatedAt: list[0].UpdatedAt}
	if diff := cmp.Diff(want, list[0]); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	// Flags may follow the client id.
	got := mustRunJSON[clientJSON](t, "clients", "disable", id, "--data-dir", dir, "--json")
	if !got.Disabled {
		t.Errorf("disable: disabled = false")
	}
	code, stdout, _ := runCmd(t, "clients", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "disabled") {
		t.Errorf("list (text) = %d %q, want the client shown disabled", code, stdout)
	}
	got = mustRunJSON[clientJSON](t, "clients", "enable", "--data-dir", dir, "--json", id)
	if got.Disabled {
		t.Errorf("enable: disabled = true")
	}

	rotated := mustRunJSON[map[string]string](t, "clients", "rotate-secret", id, "--data-dir", dir, "--json")
	if rotated["client_id"] != id || rotated["client_secret"] == "" || rotated["client_secret"] == secret {
		t.Errorf("rotate-secret = %v, want a new secret for %s", rotated, id)
	}

	code, stdout, _ = runCmd(t, "clients", "create", "--data-dir", dir, "--account", "ACME", "--project", "p")
	if code != 0 || !strings.Contains(stdout, "client_secret: ") || !strings.Contains(stdout, "cannot be shown again") {
		t.Errorf("create (text) = %d %q", code, stdout)
	}
}

func TestClientsErrors(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"no subcommand", []string{"clients"}, 2, "Usage: sello clients"},
		{"unknown subcommand", []string{"clients", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{"create without account", []string{"clients", "create", "--data-dir", dir, "--project", "p"}, 2, "account"},
		{"create without project", []string{"clients", "create", "--data-dir", dir, "--account", "A"}, 2, "at least one project"},
		{"create with a spaced account", []string{"clients", "create", "--data-dir", dir, "--account", "A B", "--project", "p"}, 2, "account"},
		{"disable without id", []string{"clients", "disable", "--data-dir", dir}, 2, "exactly one client id"},
		{"disable two ids", []string{"clients", "disable", "a", "b", "--data-dir", dir}, 2, "exactly one client id"},
		{"disable unknown", []string{"clients", "disable", "nobody", "--data-dir", dir}, 1, `no client with id "nobody"`},
		{"rotate unknown", []string{"clients", "rotate-secret", "nobody", "--data-dir", dir}, 1, `no client with id "nobody"`},
		{"bad flag", []string{"clients", "list", "--nope"}, 2, "flag provided but not defined"},
		{"keys unknown subcommand", []string{"keys", "frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("sello %s = exit %d, stderr %q; want exit %d mentioning %q",
					strings.Join(tt.args, " "), code, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	first := mustRunJSON[keyJSON](t, "keys", "rotate", "--data-dir", dir, "--json")
	second := mustRunJSON[keyJSON](t, "keys", "rotate", "--data-dir", dir, "--json")
	if first.KeyID == second.KeyID || first.Algorithm != "ES256" {
		t.Errorf("rotate twice = %+v, %+v; want two ES256 keys", first, second)
	}
	list := mustRunJSON[[]keyJSON](t, "keys", "list", "--data-dir", dir, "--json")
	var kids []string
	for _, k := range list {
		kids = append(kids, k.KeyID)
	}
	if diff := cmp.Diff([]string{first.KeyID, second.KeyID}, kids); diff != "" {
		t.Errorf("keys list (-want +got):\n%s", diff)
	}

	// Without the master key that sealed them, no new key is made (the
	// servers could not use it) and no new master key either.
	if err := os.Remove(filepath.Join(dir, masterKeyFile)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "keys", "rotate", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "no master key") {
		t.Errorf("keys rotate without master.key = exit %d, %q; want exit 1 and \"no master key\"", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); err == nil {
		t.Errorf("keys rotate created a new master key beside existing token keys")
	}
}
