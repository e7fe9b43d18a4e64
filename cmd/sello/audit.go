package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"sello/internal/signing"
)

const auditUsage = `Usage: sello audit list [flags]

Lists the audit log: one entry per document the service was asked to sign,
oldest first, with its documentId, referenceNumber, outcome, who asked and
for whom it was signed. The documents themselves are never stored.

Flags:
  --since WHEN      only entries at or after WHEN: an RFC 3339 time
                    (2026-12-04T10:00:00Z), a date (2026-12-04) or a
                    duration back from now (24h)
  --reference REF   only entries with this referenceNumber
  --limit N         at most N entries
  --json            print machine-readable JSON
  --data-dir DIR    data directory (env SELLO_DATA_DIR, default ./sello-data)
`

// auditJSON is an audit entry as the --json output shows it.
type auditJSON struct {
	Time                 time.Time `json:"time"`
	DocumentID           string    `json:"document_id"`
	ReferenceNumber      string    `json:"reference_number"`
	Status               string    `json:"status"`
	ErrorReason          string    `json:"error_reason,omitempty"`
	Detail               string    `json:"detail,omitempty"`
	RequestID            string    `json:"request_id"`
	ClientID             string    `json:"client_id"`
	Account              string    `json:"account"`
	Project              string    `json:"project"`
	SignerName           string    `json:"signer_name,omitempty"`
	SignerIdentification string    `json:"signer_identification,omitempty"`
	SignerSource         string    `json:"signer_source,omitempty"`
	TransactionNumber    string    `json:"transaction_number,omitempty"`
	CertificateSerial    string    `json:"certificate_serial,omitempty"`
	OriginalSHA256       string    `json:"original_sha256"`
	SignedSHA256         string    `json:"signed_sha256,omitempty"`
}

func runAudit(args []string, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand(args, auditUsage, stderr)
	if !ok {
		return code
	}
	if sub != "list" {
		fmt.Fprintf(stderr, "sello audit: unknown command %q\n\n%s", sub, auditUsage)
		return 2
	}
	fs := flag.NewFlagSet("sello audit list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage) }
	dataDir := dataDirFlag(fs)
	since := fs.String("since", "", "only entries at or after this time, date or duration back from now")
	reference := fs.String("reference", "", "only entries with this referenceNumber")
	limit := fs.Int("limit", 0, "at most this many entries")
	asJSON := fs.Bool("json", false, "print machine-readable JSON")
	if _, code, ok := parseOperands(fs, args, 0, "", stderr); !ok {
		return code
	}
	q := signing.AuditQuery{ReferenceNumber: *reference, Limit: *limit}
	if *limit < 0 {
		fmt.Fprintf(stderr, "sello audit list: --limit %d: must not be negative\n", *limit)
		return 2
	}
	if *since != "" {
		var err error
		if q.Since, err = parseSince(*since, time.Now()); err != nil {
			fmt.Fprintf(stderr, "sello audit list: --since: %v\n", err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := auditList(ctx, *dataDir, q, *asJSON, stdout); err != nil {
		fmt.Fprintf(stderr, "sello audit list: %v\n", err)
		return 1
	}
	return 0
}

// parseSince reads --since: an RFC 3339 time, a date (midnight UTC) or a
// positive duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time, a date (YYYY-MM-DD) nor a positive duration (24h)", s)
}

func auditList(ctx context.Context, dataDir string, q signing.AuditQuery, asJSON bool, stdout io.Writer) error {
	db, err := openStore(ctx, "", dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.ListAudit(ctx, q)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]auditJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, auditJSON{
				Time: e.Time, DocumentID: e.DocumentID, ReferenceNumber: e.ReferenceNumber,
				Status: string(e.Status), ErrorReason: e.ErrorReason, Detail: e.Detail, RequestID: e.RequestID,
				ClientID: e.ClientID, Account: e.Account, Project: e.Project,
				SignerName: e.SignerName, SignerIdentification: e.SignerIdentification,
				SignerSource: e.SignerSource, TransactionNumber: e.TransactionNumber,
				CertificateSerial: e.CertificateSerial,
				OriginalSHA256:    e.OriginalSHA256, SignedSHA256: e.SignedSHA256,
			})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tDOCUMENT ID\tREFERENCE\tSTATUS\tACCOUNT\tPROJECT\tCLIENT\tSIGNER\tREASON")
	for _, e := range entries {
		signer := strings.TrimSpace(e.SignerName + " (" + e.SignerIdentification + ")")
		if e.SignerName == "" {
			signer = "-"
		}
		reason := e.ErrorReason
		if reason == "" {
			reason = "-"
		}
		if e.Detail != "" {
			reason += " [" + oneLine(e.Detail) + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Time.UTC().Format(time.RFC3339), e.DocumentID, oneLine(e.ReferenceNumber), e.Status,
			oneLine(e.Account), oneLine(e.Project), oneLine(e.ClientID), oneLine(signer), reason)
	}
	return tw.Flush()
}

// oneLine keeps a client-supplied value from breaking the table: control
// characters (tabs, newlines, escapes) are shown as '?', and an empty
// value as "-".
func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
