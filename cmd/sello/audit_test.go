package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/signing"
	"sello/internal/store/sqlite"
)

func mustAuditDataDir(t *testing.T, entries []signing.AuditEntry) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "sello.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Record(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAuditList(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	entries := []signing.AuditEntry{
		{DocumentID: "doc-1", RequestID: "req-1", ReferenceNumber: "ref123", ClientID: "c1", Account: "ACME", Project: "p1",
			SignerName: "José Núñez", SignerIdentification: "CC 1020304050", CertificateSerial: "01",
			OriginalSHA256: strings.Repeat("a", 64), SignedSHA256: strings.Repeat("b", 64), Status: signing.StatusSuccess, Time: t0},
		{DocumentID: "doc-2", RequestID: "req-2", ReferenceNumber: "ref\t456", ClientID: "c1", Account: "ACME", Project: "p1",
			OriginalSHA256: strings.Repeat("c", 64), Status: signing.StatusFail, ErrorReason: "Identity validation error.", Time: t0.Add(time.Hour)},
	}
	dir := mustAuditDataDir(t, entries)

	tests := []struct {
		name    string
		args    []string
		wantIDs []string
	}{
		{"all", nil, []string{"doc-1", "doc-2"}},
		{"since time", []string{"--since", "2026-12-04T10:30:00Z"}, []string{"doc-2"}},
		{"since date", []string{"--since", "2026-12-04"}, []string{"doc-1", "doc-2"}},
		{"reference", []string{"--reference", "ref123"}, []string{"doc-1"}},
		{"limit", []string{"--limit", "1"}, []string{"doc-1"}},
		{"none", []string{"--reference", "nope"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			args := append([]string{"audit", "list", "--data-dir", dir, "--json"}, tt.args...)
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			var got []auditJSON
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("%v in %s", err, stdout.String())
			}
			ids := []string{}
			for _, e := range got {
				ids = append(ids, e.DocumentID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("document ids (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("table", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"audit", "list", "--data-dir", dir}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d, stderr %s", code, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("table has %d lines, want a header and 2 rows:\n%s", len(lines), stdout.String())
		}
		for _, want := range []string{"doc-1", "ref123", "SUCCESS", "José Núñez (CC 1020304050)", "doc-2", "ref?456", "Identity validation error."} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, stdout.String())
			}
		}
	})
}

func TestAuditUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", []string{"audit"}, 2},
		{"unknown command", []string{"audit", "purge"}, 2},
		{"bad since", []string{"audit", "list", "--since", "yesterday"}, 2},
		{"negative limit", []string{"audit", "list", "--limit", "-1"}, 2},
		{"extra argument", []string{"audit", "list", "x"}, 2},
		{"help", []string{"audit", "--help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr %s", tt.args, code, tt.want, stderr.String())
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-12-04T10:00:00Z", time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)},
		{"2026-12-03", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)},
		{"90m", now.Add(-90 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSince(tt.in, now)
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "-1h", "soon"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) = nil error", bad)
		}
	}
}
