package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sello/internal/corpus"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

// startServe runs serve, wired as in production, on a loopback port with
// the given extra flags; it returns the base URL and the data directory.
func startServe(t *testing.T, args ...string) (base, dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, logs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := mustServeConfig(t, append([]string{"-addr=127.0.0.1:0", "-data-dir=" + dir}, args...)...)
	go func() { done <- serve(ctx, cfg, &stdout, newLogger(&logs, "json", "info"), ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr, dir
	case err := <-done:
		t.Fatalf("serve = %v before listening; log:\n%s", err, logs.String())
	}
	return "", ""
}

type signResponse struct {
	SignedDocuments []struct {
		ReferenceNumber string  `json:"referenceNumber"`
		DocumentID      string  `json:"documentId"`
		SignedDocument  *string `json:"signedDocument"`
		Status          string  `json:"status"`
		ErrorReason     *string `json:"errorReason"`
	} `json:"signedDocuments"`
}

// curl runs curl with args and returns its output; the test fails when
// curl fails.
func curl(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "curl", append([]string{"-sS"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestSpecificationFlow runs the specification's curl examples as they are
// written (only host, token and file path substituted) against the real
// service: a client and an identity transaction created with the CLI, a
// token, a signature. The signed file must pass the independent verifier
// and name the validated person in its certificate.
func TestSpecificationFlow(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		corpus.Require(t, "curl", "curl is not installed")
	}
	pdf := filepath.Join(corpus.Dir(t), "s01-google-docs.pdf")
	verifier := corpus.Verifier(t)
	base, dir := startServe(t, "-ca-country=CO")

	client := mustRunJSON[map[string]string](t, "clients", "create", "--data-dir", dir, "--account", "your_account_id", "--project", "your_project_id", "--json")
	mustRun(t, 0, "transactions", "create", "--data-dir", dir, "--account", "your_account_id", "--number", "transactionNumber",
		"--name", "José Núñez", "--id-type", "CC", "--id-number", "1020304050")

	out := curl(t, "-X", "POST", base+"/token",
		"-H", "accept: application/json",
		"-H", "Content-Type: application/x-www-form-urlencoded",
		"-d", "client_id="+client["client_id"]+"&client_secret="+client["client_secret"]+"&grant_type=client_credentials")
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("POST /token = %s (%v)", out, err)
	}

	out = curl(t, "-X", "POST", base+"/sign-documents",
		"-H", "accept: application/json",
		"-H", "Content-Type: multipart/form-data",
		"-H", "x-account-id: your_account_id",
		"-H", "x-project-id: your_project_id",
		"-H", "Authorization: Bearer "+tok.AccessToken,
		"-F", "documentPairs[0].referenceNumber=ref123",
		"-F", "documentPairs[0].document=@"+pdf,
		"-F", "clientInfo=transactionNumber",
		"-F", "x1=300",
		"-F", "y1=300",
		"-F", "x2=500",
		"-F", "y2=150",
		"-F", "signaturePage=0")
	var res signResponse
	if err := json.Unmarshal(out, &res); err != nil || len(res.SignedDocuments) != 1 {
		t.Fatalf("POST /sign-documents = %s (%v)", out, err)
	}
	doc := res.SignedDocuments[0]
	if doc.Status != "SUCCESS" || doc.ReferenceNumber != "ref123" || doc.DocumentID == "" || doc.ErrorReason != nil || doc.SignedDocument == nil {
		t.Fatalf("signed document = %+v, want SUCCESS for ref123", doc)
	}
	signed, err := base64.StdEncoding.DecodeString(*doc.SignedDocument)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	report, err := exec.CommandContext(t.Context(), verifier, pdf, path, "--page", "0", "--rect", "300,300,500,150",
		"--expect-signer", "José Núñez").CombinedOutput()
	if err != nil {
		t.Fatalf("verify-signed.sh: %v\n%s", err, report)
	}

	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
		t.Fatalf("Verify = %+v, %v", sigs, err)
	}
	subject := sigs[0].Signer.Subject
	if subject.CommonName != "José Núñez" || subject.SerialNumber != "IDCCO-1020304050" {
		t.Errorf("certificate subject = %v, want CN=José Núñez, serialNumber=IDCCO-1020304050", subject)
	}
	// openssl, which we did not write, verifies the CMS over the signed byte
	// ranges and names the same person as the signer.
	br := sigs[0].ByteRange
	der, err := hex.DecodeString(string(signed[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatal(err)
	}
	var cms asn1.RawValue // the DER value, without the zero padding after it
	if _, err := asn1.Unmarshal(der, &cms); err != nil {
		t.Fatal(err)
	}
	covered := append(append([]byte{}, signed[br[0]:br[0]+br[1]]...), signed[br[2]:br[2]+br[3]]...)
	signerFile := filepath.Join(t.TempDir(), "signer.pem")
	pkitest.OpenSSL(t, "cms", "-verify", "-binary", "-noverify", "-inform", "DER",
		"-in", pkitest.TempFile(t, "signature.der", cms.FullBytes), "-content", pkitest.TempFile(t, "content", covered),
		"-signer", signerFile, "-out", os.DevNull)
	out = pkitest.OpenSSL(t, "x509", "-in", signerFile, "-noout", "-subject", "-nameopt", "utf8,sep_comma_plus_space")
	if !strings.Contains(string(out), "CN=José Núñez") || !strings.Contains(string(out), "serialNumber=IDCCO-1020304050") {
		t.Errorf("openssl names the signer %q, want CN=José Núñez, serialNumber=IDCCO-1020304050", out)
	}

	// The audit log has the document, with the digests of both files and
	// the certificate that signed it.
	audit := mustRunJSON[[]map[string]any](t, "audit", "list", "--data-dir", dir, "--json")
	origSum, signedSum := sha256.Sum256(mustReadFile(t, pdf)), sha256.Sum256(signed)
	want := map[string]any{
		"document_id":        doc.DocumentID,
		"reference_number":   "ref123",
		"status":             "SUCCESS",
		"account":            "your_account_id",
		"project":            "your_project_id",
		"client_id":          client["client_id"],
		"signer_name":        "José Núñez",
		"original_sha256":    hex.EncodeToString(origSum[:]),
		"signed_sha256":      hex.EncodeToString(signedSum[:]),
		"certificate_serial": sigs[0].Signer.SerialNumber.Text(16),
	}
	if len(audit) != 1 {
		t.Fatalf("audit list = %v, want one entry", audit)
	}
	for k, v := range want {
		if audit[0][k] != v {
			t.Errorf("audit entry %s = %v, want %v", k, audit[0][k], v)
		}
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiClient drives a running service over HTTP with a token for one
// account and project.
type apiClient struct {
	base, token, account, project string
}

// newAPIClient creates an API client with the CLI and fetches its token.
func newAPIClient(t *testing.T, base, dir, account, project string) *apiClient {
	t.Helper()
	c := mustRunJSON[map[string]string](t, "clients", "create", "--data-dir", dir, "--account", account, "--project", project, "--json")
	resp, err := http.PostForm(base+"/token", url.Values{"client_id": {c["client_id"]}, "client_secret": {c["client_secret"]}, "grant_type": {"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /token = %d, %v", resp.StatusCode, err)
	}
	return &apiClient{base: base, token: tok.AccessToken, account: account, project: project}
}

// sign posts documents with clientInfo and the rectangle of the
// specification's example, and decodes the 200 answer.
func (c *apiClient) sign(t *testing.T, clientInfo string, docs ...[]byte) signResponse {
	t.Helper()
	status, raw := c.post(t, clientInfo, docs...)
	if status != http.StatusOK {
		t.Fatalf("POST /sign-documents = %d %s", status, raw)
	}
	var res signResponse
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("POST /sign-documents: %v in %s", err, raw)
	}
	return res
}

// post sends a signing request and returns the status and body.
func (c *apiClient) post(t *testing.T, clientInfo string, docs ...[]byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i, d := range docs {
		mw.WriteField(fmt.Sprintf("documentPairs[%d].referenceNumber", i), fmt.Sprintf("ref%d", i))
		fw, _ := mw.CreateFormFile(fmt.Sprintf("documentPairs[%d].document", i), fmt.Sprintf("doc%d.pdf", i))
		fw.Write(d)
	}
	for k, v := range map[string]string{"clientInfo": clientInfo, "x1": "300", "y1": "300", "x2": "500", "y2": "150", "signaturePage": "0"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+"/sign-documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("x-account-id", c.account)
	req.Header.Set("x-project-id", c.project)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// TestIdentityRules checks every transaction state that must not sign:
// each document of the request fails with the specification's reason.
func TestIdentityRules(t *testing.T) {
	t.Parallel()
	pdf := mustReadFile(t, filepath.Join(corpus.Dir(t), "s07-pdf20-simple.pdf"))
	base, dir := startServe(t, "-identity-single-use")
	api := newAPIClient(t, base, dir, "ACME", "payroll")
	create := func(number string, extra ...string) {
		mustRun(t, 0, append([]string{"transactions", "create", "--data-dir", dir, "--account", "ACME", "--number", number,
			"--name", "Ana Müller", "--id-type", "CC", "--id-number", "42"}, extra...)...)
	}
	create("approved")
	create("rejected", "--status", "rejected")
	create("pending", "--status", "pending")
	create("expired", "--expires-in", "1ns")
	create("revoked")
	mustRun(t, 0, "transactions", "revoke", "--data-dir", dir, "revoked")
	mustRun(t, 0, "transactions", "create", "--data-dir", dir, "--account", "OTHER", "--number", "other-account",
		"--name", "Ana Müller", "--id-type", "CC", "--id-number", "42")

	for _, number := range []string{"unknown", "rejected", "pending", "expired", "revoked", "other-account"} {
		res := api.sign(t, number, pdf, pdf)
		for _, d := range res.SignedDocuments {
			if d.Status != "FAIL" || d.ErrorReason == nil || *d.ErrorReason != "Identity validation error." || d.SignedDocument != nil {
				t.Errorf("transaction %s: document %s = %s %v, want FAIL \"Identity validation error.\"", number, d.ReferenceNumber, d.Status, d.ErrorReason)
			}
		}
	}

	// Single use: of 8 concurrent requests with the same transaction,
	// exactly one signs.
	results := make(chan signResponse, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { results <- api.sign(t, "approved", pdf) })
	}
	wg.Wait()
	close(results)
	success := 0
	for r := range results {
		if r.SignedDocuments[0].Status == "SUCCESS" {
			success++
		}
	}
	if success != 1 {
		t.Errorf("%d of 8 concurrent requests signed with a single-use transaction, want exactly 1", success)
	}
}

// TestSealMode signs with an organisation seal: the certificate is the
// seal's whoever the signer, and the signer's name is still in /Name.
func TestSealMode(t *testing.T) {
	t.Parallel()
	pdf := mustReadFile(t, filepath.Join(corpus.Dir(t), "s07-pdf20-simple.pdf"))
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Seal CA"})
	keyFile, certFile := pkitest.WritePEM(t, ca.Issue(t, pkitest.Options{CommonName: "ACME Corp Seal", KeyType: pkitest.ECDSAP256}))
	base, dir := startServe(t, "-cert-mode=seal", "-seal-key-file="+keyFile, "-seal-cert-file="+certFile)
	api := newAPIClient(t, base, dir, "ACME", "payroll")
	res := api.sign(t, `{"name": "José Núñez", "identification": "CC 1020304050"}`, pdf)
	d := res.SignedDocuments[0]
	if d.Status != "SUCCESS" {
		t.Fatalf("seal signing = %s %v", d.Status, d.ErrorReason)
	}
	signed, _ := base64.StdEncoding.DecodeString(*d.SignedDocument)
	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
		t.Fatalf("Verify = %+v, %v", sigs, err)
	}
	if cn := sigs[0].Signer.Subject.CommonName; cn != "ACME Corp Seal" || sigs[0].Name != "José Núñez" {
		t.Errorf("signed by %q with /Name %q, want the seal and the person", cn, sigs[0].Name)
	}
}

// TestHTTPIdentityProvider signs through an external identity-validation
// service that answers, answers slowly, or fails: a healthy answer signs;
// a slow or failing provider fails each document with the identity reason
// within the configured timeout, never hanging the request.
func TestHTTPIdentityProvider(t *testing.T) {
	t.Parallel()
	pdf := mustReadFile(t, filepath.Join(corpus.Dir(t), "s07-pdf20-simple.pdf"))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer provider-secret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch path.Base(r.URL.Path) {
		case "slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		case "broken":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"number": %q, "account": "ACME", "status": "approved", "name": "José Núñez", "idType": "CC", "idNumber": "1020304050"}`, path.Base(r.URL.Path))
	}))
	t.Cleanup(provider.Close)
	credential := filepath.Join(t.TempDir(), "credential")
	if err := os.WriteFile(credential, []byte("provider-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, dir := startServe(t, "-identity-provider=http", "-identity-url="+provider.URL,
		"-identity-credential-file="+credential, "-identity-timeout=300ms", "-identity-max-retries=1")
	api := newAPIClient(t, base, dir, "ACME", "payroll")

	for _, tc := range []struct{ number, status string }{
		{"good", "SUCCESS"}, {"slow", "FAIL"}, {"broken", "FAIL"},
	} {
		// The slow provider never answers until the test ends: only the
		// configured timeout lets this request finish.
		res := api.sign(t, tc.number, pdf)
		d := res.SignedDocuments[0]
		if d.Status != tc.status {
			t.Errorf("transaction %s: %s %v, want %s", tc.number, d.Status, d.ErrorReason, tc.status)
		}
		if tc.status == "FAIL" && (d.ErrorReason == nil || *d.ErrorReason != "Identity validation error.") {
			t.Errorf("transaction %s: errorReason %v, want the identity reason", tc.number, d.ErrorReason)
		}
	}

	// Configured so, a provider that cannot answer is the service's fault.
	base, dir = startServe(t, "-identity-provider=http", "-identity-url="+provider.URL,
		"-identity-credential-file="+credential, "-identity-timeout=300ms", "-identity-max-retries=0",
		"-identity-unavailable-is-fault")
	api = newAPIClient(t, base, dir, "ACME", "payroll")
	if status, raw := api.post(t, "broken", pdf); status != http.StatusInternalServerError || !strings.Contains(string(raw), "Error signing the documents.") {
		t.Errorf("broken provider with identity.unavailable-is-fault: %d %s, want 500", status, raw)
	}
}
