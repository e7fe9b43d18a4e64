package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/signing"
)

// AuditStore is what a store provides for the audit log: package signing
// records entries, and administration lists them.
type AuditStore interface {
	signing.AuditLog
	// ListAudit returns the entries that q selects, oldest first, ties
	// broken by document id, with times in UTC.
	ListAudit(ctx context.Context, q signing.AuditQuery) ([]signing.AuditEntry, error)
}

// RunAudit runs the audit store suite. open must return a new, empty store
// for each call and arrange its cleanup with t.Cleanup.
func RunAudit(t *testing.T, open func(t *testing.T) AuditStore) {
	t.Helper()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

	t.Run("record and list", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		all := []signing.AuditEntry{
			auditEntry(1, "ref-a", t0, signing.StatusSuccess),
			auditEntry(2, "ref-b", t0.Add(time.Minute), signing.StatusFail),
			auditEntry(3, "ref-a", t0.Add(2*time.Minute), signing.StatusSuccess),
			auditEntry(4, "ref-c", t0.Add(2*time.Minute), signing.StatusSuccess),
		}
		// Two batches, the second out of order: the store sorts.
		mustRecord(t, s, all[:2]...)
		mustRecord(t, s, all[3], all[2])
		if err := s.Record(t.Context(), nil); err != nil {
			t.Errorf("Record(no entries) = %v, want nil", err)
		}
		tests := []struct {
			name string
			q    signing.AuditQuery
			want []signing.AuditEntry
		}{
			{"all", signing.AuditQuery{}, all},
			{"since", signing.AuditQuery{Since: t0.Add(time.Minute)}, all[1:]},
			{"since is inclusive to the nanosecond", signing.AuditQuery{Since: t0.Add(time.Minute + 1)}, all[2:]},
			{"reference", signing.AuditQuery{ReferenceNumber: "ref-a"}, []signing.AuditEntry{all[0], all[2]}},
			{"since and reference", signing.AuditQuery{Since: t0.Add(time.Second), ReferenceNumber: "ref-a"}, all[2:3]},
			{"limit", signing.AuditQuery{Limit: 1}, all[:1]},
			{"since and limit", signing.AuditQuery{Since: t0.Add(time.Second), Limit: 2}, all[1:3]},
			{"none", signing.AuditQuery{ReferenceNumber: "nope"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := s.ListAudit(t.Context(), tt.q)
				if err != nil {
					t.Fatalf("ListAudit = %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ListAudit(%+v) (-want +got):\n%s", tt.q, diff)
				}
			})
		}
	})

	t.Run("times come back in UTC", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		e := auditEntry(1, "ref-a", t0.In(time.FixedZone("COT", -5*3600)), signing.StatusSuccess)
		mustRecord(t, s, e)
		got, err := s.ListAudit(t.Context(), signing.AuditQuery{})
		if err != nil {
			t.Fatalf("ListAudit = %v", err)
		}
		e.Time = t0
		if diff := cmp.Diff([]signing.AuditEntry{e}, got); diff != "" {
			t.Errorf("ListAudit (-want +got):\n%s", diff)
		}
	})

	// A batch with one bad entry (a document id already recorded) leaves
	// no row behind.
	t.Run("all or nothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		first := auditEntry(1, "ref-a", t0, signing.StatusSuccess)
		mustRecord(t, s, first)
		batch := []signing.AuditEntry{auditEntry(2, "ref-b", t0, signing.StatusSuccess), first}
		if err := s.Record(t.Context(), batch); err == nil {
			t.Fatal("Record with a duplicate document id = nil, want an error")
		}
		got, err := s.ListAudit(t.Context(), signing.AuditQuery{})
		if err != nil {
			t.Fatalf("ListAudit = %v", err)
		}
		if diff := cmp.Diff([]signing.AuditEntry{first}, got); diff != "" {
			t.Errorf("rows after a failed batch (-want +got):\n%s", diff)
		}
	})
}

func auditEntry(i int, ref string, at time.Time, status signing.Status) signing.AuditEntry {
	e := signing.AuditEntry{
		DocumentID: fmt.Sprintf("0193a000-0000-7000-8000-%012d", i), RequestID: fmt.Sprintf("req-%d", i),
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

func mustRecord(t *testing.T, s AuditStore, entries ...signing.AuditEntry) {
	t.Helper()
	if err := s.Record(t.Context(), entries); err != nil {
		t.Fatalf("Record(%d entries) = %v", len(entries), err)
	}
}
