package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/signing"
	"sello/internal/store/sqlite"
)

func mustOpenAuditDB(t *testing.T) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sello.db")
	d, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func auditEntry(i int, ref string, at time.Time, status signing.Status) signing.AuditEntry {
	e := signing.AuditEntry{
		DocumentID: fmt.Sprintf("0193a000-0000-7000-8000-%012d", i), RequestID: "req-1",
		ReferenceNumber: ref, ClientID: "client-1", Account: "ACME", Project: "p1",
		SignerName: "José Núñez", SignerIdentification: "CC 1020304050", CertificateSerial: "abc123",
		OriginalSHA256: fmt.Sprintf("%064x", i), Status: status, Time: at,
		SignerSource: "transaction", TransactionNumber: "7f3a9c",
	}
	if status == signing.StatusSuccess {
		e.SignedSHA256 = fmt.Sprintf("%064x", i+1000)
	} else {
		e.ErrorReason = "Identity validation error."
		e.Detail = "identity: transaction expired (rule expired)"
	}
	return e
}

func TestAuditRecordAndList(t *testing.T) {
	t.Parallel()
	d := mustOpenAuditDB(t)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)
	all := []signing.AuditEntry{
		auditEntry(1, "ref-a", t0, signing.StatusSuccess),
		auditEntry(2, "ref-b", t0.Add(time.Minute), signing.StatusFail),
		auditEntry(3, "ref-a", t0.Add(2*time.Minute), signing.StatusSuccess),
	}
	if err := d.Record(t.Context(), all[:2]); err != nil {
		t.Fatalf("Record = %v", err)
	}
	if err := d.Record(t.Context(), all[2:]); err != nil {
		t.Fatalf("Record = %v", err)
	}
	tests := []struct {
		name string
		q    signing.AuditQuery
		want []signing.AuditEntry
	}{
		{"all", signing.AuditQuery{}, all},
		{"since", signing.AuditQuery{Since: t0.Add(time.Minute)}, all[1:]},
		{"reference", signing.AuditQuery{ReferenceNumber: "ref-a"}, []signing.AuditEntry{all[0], all[2]}},
		{"since and reference", signing.AuditQuery{Since: t0.Add(time.Second), ReferenceNumber: "ref-a"}, all[2:]},
		{"limit", signing.AuditQuery{Limit: 1}, all[:1]},
		{"none", signing.AuditQuery{ReferenceNumber: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.ListAudit(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("ListAudit = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListAudit(%+v) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

// TestAuditRecordAllOrNothing checks that a batch with one bad entry (a
// duplicate document id) leaves no row behind.
func TestAuditRecordAllOrNothing(t *testing.T) {
	t.Parallel()
	d := mustOpenAuditDB(t)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	first := auditEntry(1, "ref-a", t0, signing.StatusSuccess)
	if err := d.Record(t.Context(), []signing.AuditEntry{first}); err != nil {
		t.Fatalf("Record = %v", err)
	}
	batch := []signing.AuditEntry{auditEntry(2, "ref-b", t0, signing.StatusSuccess), first}
	if err := d.Record(t.Context(), batch); err == nil {
		t.Fatal("Record with a duplicate document id = nil, want an error")
	}
	got, err := d.ListAudit(t.Context(), signing.AuditQuery{})
	if err != nil {
		t.Fatalf("ListAudit = %v", err)
	}
	if diff := cmp.Diff([]signing.AuditEntry{first}, got); diff != "" {
		t.Errorf("rows after a failed batch (-want +got):\n%s", diff)
	}
}
