package main

import (
	"bytes"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"sello/client"
	"sello/internal/corpus"
	"sello/internal/pades"
)

// TestGoClient signs through the real service with the Go client of
// package client: a token fetched with client_credentials, a valid PDF
// signed for a validated person, a file that is not a PDF refused on its
// own, and the whole request refused for an account the token was not
// issued for.
func TestGoClient(t *testing.T) {
	t.Parallel()
	pdf := mustReadFile(t, filepath.Join(corpus.Dir(t), "s07-pdf20-simple.pdf"))
	base, dir := startServe(t, "-ca-country=CO")
	creds := mustRunJSON[map[string]string](t, "clients", "create", "--data-dir", dir, "--account", "ACME", "--project", "payroll", "--json")
	mustRun(t, 0, "transactions", "create", "--data-dir", dir, "--account", "ACME", "--number", "7f3a9c",
		"--name", "José Núñez", "--id-type", "CC", "--id-number", "1020304050")

	c := client.New(base, creds["client_id"], creds["client_secret"])
	resp, err := c.SignDocuments(t.Context(), client.SignRequest{
		Account:    "ACME",
		Project:    "payroll",
		ClientInfo: "7f3a9c",
		Rect:       &client.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150},
		Documents: []client.Document{
			{ReferenceNumber: "contract", Name: "contract.pdf", Body: bytes.NewReader(pdf)},
			{ReferenceNumber: "photo", Name: "photo.pdf", Body: strings.NewReader("\x89PNG\r\n\x1a\n")},
		},
	})
	if err != nil {
		t.Fatalf("SignDocuments: %v", err)
	}
	if len(resp.SignedDocuments) != 2 {
		t.Fatalf("SignDocuments returned %d results, want 2", len(resp.SignedDocuments))
	}
	ok, bad := resp.SignedDocuments[0], resp.SignedDocuments[1]
	if ok.ReferenceNumber != "contract" || ok.Status != client.StatusSuccess || ok.DocumentID == "" || ok.ErrorReason != "" {
		t.Fatalf("first result = %+v, want SUCCESS for contract", ok)
	}
	if !bytes.HasPrefix(ok.SignedDocument, pdf) {
		t.Error("the signed document does not begin with the original bytes")
	}
	sigs, err := pades.Verify(bytes.NewReader(ok.SignedDocument), int64(len(ok.SignedDocument)))
	if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
		t.Fatalf("Verify = %+v, %v", sigs, err)
	}
	if cn := sigs[0].Signer.Subject.CommonName; cn != "José Núñez" {
		t.Errorf("signer = %q, want José Núñez", cn)
	}
	if bad.ReferenceNumber != "photo" || bad.Status != client.StatusFail || bad.SignedDocument != nil || bad.ErrorReason != "The document is not a PDF file." {
		t.Errorf("second result = %+v, want FAIL, not a PDF", bad)
	}

	_, err = c.SignDocuments(t.Context(), client.SignRequest{
		Account: "OTHER", Project: "payroll", ClientInfo: "7f3a9c",
		Documents: []client.Document{{ReferenceNumber: "r", Body: bytes.NewReader(pdf)}},
	})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Message != "The token was not issued for this x-account-id." || apiErr.RequestID == "" {
		t.Errorf("SignDocuments for another account = %v, want a 403 *client.APIError with a request id", err)
	}
}
