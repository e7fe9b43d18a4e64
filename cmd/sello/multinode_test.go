package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"path/filepath"
	"testing"

	"sello/internal/corpus"
	"sello/internal/keys"
	"sello/internal/pkitest"
	"sello/internal/store/postgres/pgtest"
)

// TestTwoNodesSharedStore runs two service nodes on one PostgreSQL database,
// as a multi-node deployment does: a client and a transaction created with
// the CLI are seen by both, a token from one node works on the other, and
// the audit log holds what either signed.
func TestTwoNodesSharedStore(t *testing.T) {
	// The CLI finds the shared store through the environment, so this test
	// cannot run in parallel with others.
	srv, err := pgtest.Start(t.Context())
	if errors.Is(err, pgtest.ErrUnavailable) {
		corpus.Require(t, "postgres", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	dsn := srv.NewDatabase(t)
	master := make([]byte, 32)
	rand.Read(master)
	masterKey := base64.StdEncoding.EncodeToString(master)
	t.Setenv("SELLO_STORE_DSN", dsn)
	t.Setenv("SELLO_MASTER_KEY", masterKey)

	authority := pkitest.NewCA(t, pkitest.Options{CommonName: "Shared Issuing CA"})
	caKey, caCert := pkitest.WritePEM(t, &keys.Key{Signer: authority.Signer(), Chain: authority.Chain()})
	// Nodes behind one load balancer share the issuer: the public URL.
	flags := []string{"-store-dsn=" + dsn, "-master-key=" + masterKey, "-ca-key-file=" + caKey, "-ca-cert-file=" + caCert,
		"-issuer=https://sign.example.test"}
	baseA, dirA := startServe(t, flags...)
	baseB, _ := startServe(t, flags...)

	mustRun(t, 0, "transactions", "create", "--data-dir", dirA, "--account", "ACME", "--number", "shared-1",
		"--name", "José Núñez", "--id-type", "CC", "--id-number", "1020304050")
	api := newAPIClient(t, baseA, dirA, "ACME", "payroll") // token from node A
	api.base = baseB                                       // used on node B
	pdf := mustReadFile(t, filepath.Join(corpus.Dir(t), "s07-pdf20-simple.pdf"))
	res := api.sign(t, "shared-1", pdf)
	if d := res.SignedDocuments[0]; d.Status != "SUCCESS" {
		t.Fatalf("node B with node A's token = %s %v", d.Status, d.ErrorReason)
	}
	audit := mustRunJSON[[]map[string]any](t, "audit", "list", "--json")
	if len(audit) != 1 || audit[0]["document_id"] != res.SignedDocuments[0].DocumentID {
		t.Errorf("shared audit log = %v, want the document signed on node B", audit)
	}

	// A shared store refuses node-local secrets.
	code, _, stderr := runCmd(t, "serve", "-store-dsn="+dsn, "-addr=127.0.0.1:0", "-data-dir="+t.TempDir(), "-master-key=")
	if code == 0 {
		t.Errorf("serve with a shared store and no CA key started; stderr %q", stderr)
	}
}
