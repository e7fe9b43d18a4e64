package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// mustRunTransactions runs "sello transactions args" and returns its output,
// failing the test unless the exit code is want.
func mustRunTransactions(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(append([]string{"transactions"}, args...), &out, &errOut); code != want {
		t.Fatalf("sello transactions %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, want, errOut.String())
	}
	return out.String(), errOut.String()
}

func TestTransactionsLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dd := "--data-dir=" + dir

	out, _ := mustRunTransactions(t, 0, "create", dd, "--account", "ACME", "--number", "7f3a9c",
		"--name", "José Núñez", "--id-type", "CC", "--id-number", "1020304050", "--email", "jose@example.com", "--json")
	var created transactionJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create --json: %v in %s", err, out)
	}
	want := transactionJSON{Number: "7f3a9c", Account: "ACME", Name: "José Núñez", IDType: "CC",
		IDNumber: "1020304050", Email: "jose@example.com", Status: "approved", State: "usable"}
	ignoreTimes := cmpopts.IgnoreFields(transactionJSON{}, "CreatedAt", "ExpiresAt", "RevokedAt", "ConsumedAt")
	if diff := cmp.Diff(want, created, ignoreTimes); diff != "" {
		t.Errorf("create mismatch (-want +got):\n%s", diff)
	}
	if created.ExpiresAt == nil || created.ExpiresAt.Sub(created.CreatedAt) != 24*time.Hour {
		t.Errorf("expires_at = %v, want created_at + 24h (%v)", created.ExpiresAt, created.CreatedAt)
	}

	mustRunTransactions(t, 0, "create", dd, "--account", "OTHER", "--number", "p1", "--name", "Ana",
		"--id-number", "99", "--status", "pending", "--expires-in", "0")
	out, _ = mustRunTransactions(t, 0, "create", dd, "--account", "ACME", "--name", "Ana", "--id-number", "98")
	if !strings.HasPrefix(out, "Created transaction ") || !strings.Contains(out, "for account ACME") {
		t.Errorf("create without --number printed %q", out)
	}

	out, _ = mustRunTransactions(t, 0, "show", "7f3a9c", dd)
	for _, s := range []string{"José Núñez", "CC 1020304050", "usable"} {
		if !strings.Contains(out, s) {
			t.Errorf("show output lacks %q:\n%s", s, out)
		}
	}

	out, _ = mustRunTransactions(t, 0, "list", dd, "--account", "OTHER", "--json")
	var listed []transactionJSON
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("list --json: %v in %s", err, out)
	}
	if len(listed) != 1 || listed[0].Number != "p1" || listed[0].State != "pending" || listed[0].ExpiresAt != nil {
		t.Errorf("list --account OTHER = %+v, want p1 pending without expiry", listed)
	}
	out, _ = mustRunTransactions(t, 0, "list", dd)
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("list printed %d lines, want a header and 3 rows:\n%s", n, out)
	}

	out, _ = mustRunTransactions(t, 0, "revoke", "7f3a9c", dd, "--json")
	var revoked transactionJSON
	if err := json.Unmarshal([]byte(out), &revoked); err != nil {
		t.Fatalf("revoke --json: %v in %s", err, out)
	}
	if revoked.State != "revoked" || revoked.RevokedAt == nil {
		t.Errorf("after revoke: state %q, revoked_at %v", revoked.State, revoked.RevokedAt)
	}
}

func TestTransactionsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	mustRunTransactions(t, 0, "create", dd, "--account", "ACME", "--number", "dup", "--name", "A", "--id-number", "1")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"NoCommand", nil, 2, "Usage"},
		{"UnknownCommand", []string{"frobnicate"}, 2, "unknown command"},
		{"Duplicate", []string{"create", dd, "--account", "ACME", "--number", "dup", "--name", "A", "--id-number", "1"}, 1, "exists"},
		{"MissingName", []string{"create", dd, "--account", "ACME", "--id-number", "1"}, 2, "name is empty"},
		{"BadStatus", []string{"create", dd, "--account", "ACME", "--name", "A", "--id-number", "1", "--status", "done"}, 2, "status"},
		{"NumberWithSpace", []string{"create", dd, "--account", "ACME", "--number", "a b", "--name", "A", "--id-number", "1"}, 2, "number"},
		{"NegativeExpiry", []string{"create", dd, "--account", "ACME", "--name", "A", "--id-number", "1", "--expires-in", "-1h"}, 2, "negative"},
		{"ShowUnknown", []string{"show", dd, "nope"}, 1, "no transaction"},
		{"RevokeUnknown", []string{"revoke", dd, "nope"}, 1, "no transaction"},
		{"ShowNoNumber", []string{"show", dd}, 2, "exactly one"},
		{"ListExtraArgument", []string{"list", dd, "x"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr := mustRunTransactions(t, tt.wantCode, tt.args...)
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantErr)
			}
		})
	}
}
