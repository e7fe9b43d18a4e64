//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"sello/internal/keys"
	"sello/internal/keys/pkcs11/softhsmtest"
	"sello/internal/pkitest"
)

const (
	softhsmModule = softhsmtest.Module
	userPIN       = "1234"
	mainToken     = "sello"
	reopenToken   = "reopen"
	// pinToken is never logged in to: a token some context of this process
	// is logged in to accepts any PIN (CKR_USER_ALREADY_LOGGED_IN).
	pinToken = "pin"
)

// softhsm is the token directory shared by the package's tests, or the
// reason there is none. SoftHSM reads SOFTHSM2_CONF once per process when the
// module is initialized, and crypto11 shares one module instance per path,
// so every test uses the same directory, set up in TestMain before any test
// loads the module; tests use distinct key labels or tokens.
var softhsm struct {
	dir  string
	skip string
}

func TestMain(m *testing.M) {
	dir, skip := softhsmtest.Setup([]string{mainToken, reopenToken, pinToken}, userPIN, "5678")
	softhsm.dir, softhsm.skip = dir, skip
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// mustSoftHSM skips the test when SoftHSM2 is not available, or fails it
// when SELLO_TEST_REQUIRE asks for softhsm.
func mustSoftHSM(t *testing.T) {
	t.Helper()
	if softhsm.skip == "" {
		return
	}
	if strings.Contains(os.Getenv("SELLO_TEST_REQUIRE"), "softhsm") {
		t.Fatalf("SoftHSM2 required: %s", softhsm.skip)
	}
	t.Skip(softhsm.skip)
}

// testKey is a key pair made in a token, with its certificate.
type testKey struct {
	label string
	chain []*x509.Certificate // leaf, then the test CA
}

// keySpec says how to make one of the tests' key pairs.
type keySpec struct {
	token      string
	kt         pkitest.KeyType
	importCert bool // store the certificate on the token too
}

// testKeys are every key pair the package's tests use, by name. They are
// all made at once, before any test reads a token: SoftHSM2's file store
// lets a search of a token that runs while an object is being made read
// that object's file half written, and the object then fails with
// CKR_GENERAL_ERROR. The service itself never makes objects on a token.
var testKeys = map[string]keySpec{
	"sign-RSA-2048":           {mainToken, pkitest.RSA2048, true},
	"sign-ECDSA-P256":         {mainToken, pkitest.ECDSAP256, true},
	"configs":                 {mainToken, pkitest.ECDSAP256, true},
	"configs-pem":             {mainToken, pkitest.RSA2048, false},
	"errors":                  {mainToken, pkitest.ECDSAP256, true},
	"errors-nocert":           {mainToken, pkitest.ECDSAP256, false},
	"close":                   {mainToken, pkitest.ECDSAP256, true},
	"concurrent":              {mainToken, pkitest.ECDSAP256, true},
	"reopen":                  {reopenToken, pkitest.RSA2048, true},
	"corpus-RSA-PKCS1v15":     {mainToken, pkitest.RSA2048, true},
	"corpus-ECDSA-P256":       {mainToken, pkitest.ECDSAP256, true},
	"corpus-ECDSA-P256-PDF20": {mainToken, pkitest.ECDSAP256, true},
}

var made struct {
	once sync.Once
	keys map[string]testKey
	err  error
}

// mustKey returns the test key pair called name, making them all on the
// first call. Every test that uses a token calls it before anything else
// touches the token.
func mustKey(t *testing.T, name string) testKey {
	t.Helper()
	made.once.Do(func() {
		// Stays the error if pkitest fails the first caller's test.
		made.err = errors.New("making the test keys failed in another test")
		made.keys, made.err = makeTestKeys(t)
	})
	if made.err != nil {
		t.Fatal(made.err)
	}
	tk, ok := made.keys[name]
	if !ok {
		t.Fatalf("no test key %q in testKeys", name)
	}
	return tk
}

// makeTestKeys makes every key pair of testKeys, labelled with its name
// plus a random suffix (so that runs with -count=N do not meet earlier
// keys) and with the label's bytes as id. One throwaway CA certifies them
// all; the certificates of importCert keys are stored on the token with
// the same id and label.
func makeTestKeys(t *testing.T) (map[string]testKey, error) {
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "HSM Test CA"})
	var err error
	keys := make(map[string]testKey, len(testKeys))
	contexts := map[string]*crypto11.Context{}
	defer func() {
		for _, c := range contexts {
			c.Close()
		}
	}()
	for name, spec := range testKeys {
		c11 := contexts[spec.token]
		if c11 == nil {
			if c11, err = crypto11.Configure(&crypto11.Config{Path: softhsmModule, TokenLabel: spec.token, Pin: userPIN}); err != nil {
				return nil, fmt.Errorf("crypto11.Configure: %w", err)
			}
			contexts[spec.token] = c11
		}
		label := name + "-" + rand.Text()[:8]
		var signer crypto11.Signer
		switch spec.kt {
		case pkitest.RSA2048:
			signer, err = c11.GenerateRSAKeyPairWithLabel([]byte(label), []byte(label), 2048)
		case pkitest.ECDSAP256:
			signer, err = c11.GenerateECDSAKeyPairWithLabel([]byte(label), []byte(label), elliptic.P256())
		default:
			return nil, fmt.Errorf("key type %v not supported", spec.kt)
		}
		if err != nil {
			return nil, fmt.Errorf("generate %v key %q: %w", spec.kt, label, err)
		}
		leaf := ca.Issue(t, pkitest.Options{CommonName: "Sello HSM " + name, Key: signer})
		if spec.importCert {
			if err := c11.ImportCertificateWithLabel([]byte(label), []byte(label), leaf.Chain[0]); err != nil {
				return nil, fmt.Errorf("import certificate %q: %w", label, err)
			}
		}
		keys[name] = testKey{label: label, chain: leaf.Chain}
	}
	return keys, nil
}

func mustOpen(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v) = %v", opts, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func uriFor(token, label string) string {
	return "pkcs11:token=" + token + ";object=" + label + "?module-path=" + softhsmModule + "&pin-value=" + userPIN
}

// mustSignVerify signs a digest of msg with k's signer under each of opts
// and verifies the signature with the certificate's public key.
func mustSignVerify(t *testing.T, k *keys.Key, msg string) {
	t.Helper()
	pub := k.Certificate().PublicKey
	sum256 := sha256.Sum256([]byte(msg))
	sum384 := sha512.Sum384([]byte(msg))
	type variant struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
	}
	var variants []variant
	switch pub.(type) {
	case *rsa.PublicKey:
		variants = []variant{
			{"PKCS1v15-SHA256", sum256[:], crypto.SHA256},
			{"PKCS1v15-SHA384", sum384[:], crypto.SHA384},
			{"PSS-SHA256-EqualsHash", sum256[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}},
			{"PSS-SHA256-Auto", sum256[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthAuto}},
		}
	case *ecdsa.PublicKey:
		variants = []variant{{"ECDSA-SHA256", sum256[:], crypto.SHA256}, {"ECDSA-SHA384", sum384[:], crypto.SHA384}}
	default:
		t.Fatalf("public key type %T", pub)
	}
	for _, v := range variants {
		sig, err := k.Signer.Sign(rand.Reader, v.digest, v.opts)
		if err != nil {
			t.Errorf("%s: Sign = %v", v.name, err)
			continue
		}
		switch pub := pub.(type) {
		case *rsa.PublicKey:
			if pss, ok := v.opts.(*rsa.PSSOptions); ok {
				err = rsa.VerifyPSS(pub, pss.Hash, v.digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
			} else {
				err = rsa.VerifyPKCS1v15(pub, v.opts.HashFunc(), v.digest, sig)
			}
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, v.digest, sig) {
				err = errors.New("ECDSA signature does not verify")
			}
		}
		if err != nil {
			t.Errorf("%s: verify: %v", v.name, err)
		}
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	for _, kt := range []pkitest.KeyType{pkitest.RSA2048, pkitest.ECDSAP256} {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			tk := mustKey(t, "sign-"+kt.String())
			s := mustOpen(t, Options{URI: uriFor(mainToken, tk.label)})
			k, err := s.Key(t.Context())
			if err != nil {
				t.Fatalf("Key = %v", err)
			}
			if !k.Certificate().Equal(tk.chain[0]) {
				t.Errorf("Key certificate %q, want %q", k.Certificate().Subject, tk.chain[0].Subject)
			}
			if !samePublicKey(k.Signer.Public(), tk.chain[0].PublicKey) {
				t.Error("Signer.Public does not match the certificate")
			}
			mustSignVerify(t, k, "José Núñez signs "+kt.String())
		})
	}
}

func TestOpenConfigurations(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	tk := mustKey(t, "configs")
	noCert := mustKey(t, "configs-pem")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(userPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(certFile, pkitest.ChainPEM(noCert.chain), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if name == "SELLO_TEST_PIN" {
			return userPIN, true
		}
		return "", false
	}
	tests := []struct {
		name      string
		opts      Options
		wantChain []*x509.Certificate
	}{
		{"URIPinValue", Options{URI: uriFor(mainToken, tk.label)}, tk.chain[:1]},
		{"URIPinSourceFileURI", Options{URI: "pkcs11:token=sello;object=" + tk.label + ";type=private?module-path=" + softhsmModule + "&pin-source=file://" + pinFile}, tk.chain[:1]},
		{"URIPinSourcePath", Options{URI: "pkcs11:token=sello;id=" + tk.label + "?module-path=" + softhsmModule + "&pin-source=" + pinFile}, tk.chain[:1]},
		{"URIWithPINFile", Options{URI: "pkcs11:token=sello;object=" + tk.label, ModulePath: softhsmModule, PINFile: pinFile}, tk.chain[:1]},
		{"FieldsPINFile", Options{ModulePath: softhsmModule, TokenLabel: mainToken, KeyLabel: tk.label, PINFile: pinFile}, tk.chain[:1]},
		{"FieldsPINEnv", Options{ModulePath: softhsmModule, TokenLabel: mainToken, KeyID: []byte(tk.label), PINEnv: "SELLO_TEST_PIN", LookupEnv: env, MaxSessions: 2}, tk.chain[:1]},
		{"CertificateFile", Options{ModulePath: softhsmModule, TokenLabel: mainToken, KeyLabel: noCert.label, PIN: userPIN, CertificateFile: certFile}, noCert.chain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustOpen(t, tt.opts)
			k, err := s.Key(t.Context())
			if err != nil {
				t.Fatalf("Key = %v", err)
			}
			if len(k.Chain) != len(tt.wantChain) {
				t.Fatalf("chain has %d certificates, want %d", len(k.Chain), len(tt.wantChain))
			}
			for i := range k.Chain {
				if !k.Chain[i].Equal(tt.wantChain[i]) {
					t.Errorf("chain[%d] = %q, want %q", i, k.Chain[i].Subject, tt.wantChain[i].Subject)
				}
			}
			mustSignVerify(t, k, tt.name)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	tk := mustKey(t, "errors")
	noCert := mustKey(t, "errors-nocert")
	otherCert := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherCert, pkitest.ChainPEM(noCert.chain), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Options{ModulePath: softhsmModule, TokenLabel: mainToken, KeyLabel: tk.label, PIN: userPIN}
	with := func(edit func(*Options)) Options { o := base; edit(&o); return o }
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"WrongPIN", with(func(o *Options) { o.TokenLabel, o.PIN = pinToken, "0000" }), keys.ErrUnavailable},
		{"UnknownToken", with(func(o *Options) { o.TokenLabel = "nope" }), keys.ErrUnavailable},
		{"MissingModule", with(func(o *Options) { o.ModulePath = "/nonexistent/libp11.so" }), keys.ErrUnavailable},
		{"UnknownKey", with(func(o *Options) { o.KeyLabel = "nope" }), ErrKeyNotFound},
		{"NoCertificate", with(func(o *Options) { o.KeyLabel = noCert.label }), ErrKeyNotFound},
		{"CertificateOfAnotherKey", with(func(o *Options) { o.CertificateFile = otherCert }), ErrConfig},
		{"MissingCertificateFile", with(func(o *Options) { o.CertificateFile = "/nonexistent.pem" }), ErrConfig},
		{"BadURI", Options{URI: "pkcs11:token=a;token=b"}, ErrURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(tt.opts)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), userPIN) && tt.name != "WrongPIN" {
				t.Errorf("error %q shows the PIN", err)
			}
		})
	}
}

func TestKeyContextAndClose(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	tk := mustKey(t, "close")
	s, err := Open(Options{URI: uriFor(mainToken, tk.label)})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Key(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Key(canceled) = %v, want %v", err, context.Canceled)
	}
	k, err := s.Key(t.Context())
	if err != nil {
		t.Fatalf("Key = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	sum := sha256.Sum256([]byte("after close"))
	if _, err := k.Signer.Sign(rand.Reader, sum[:], crypto.SHA256); !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("Sign after Close = %v, want %v", err, keys.ErrUnavailable)
	}
	if _, err := s.Key(t.Context()); !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("Key after Close = %v, want %v", err, keys.ErrUnavailable)
	}
}

// TestSignConcurrently signs from more goroutines than the session cap.
func TestSignConcurrently(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	tk := mustKey(t, "concurrent")
	s := mustOpen(t, Options{URI: uriFor(mainToken, tk.label), MaxSessions: 2})
	k, err := s.Key(t.Context())
	if err != nil {
		t.Fatalf("Key = %v", err)
	}
	pub := k.Certificate().PublicKey.(*ecdsa.PublicKey)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			sum := sha256.Sum256(fmt.Appendf(nil, "document %d", i))
			sig, err := k.Signer.Sign(rand.Reader, sum[:], crypto.SHA256)
			if err != nil {
				t.Errorf("Sign %d = %v", i, err)
				return
			}
			if !ecdsa.VerifyASN1(pub, sum[:], sig) {
				t.Errorf("signature %d does not verify", i)
			}
		})
	}
	wg.Wait()
}

// TestReopenAfterTokenError closes every session of the token behind the
// store's back, as a restarted HSM would, and checks that signing recovers.
func TestReopenAfterTokenError(t *testing.T) {
	t.Parallel()
	mustSoftHSM(t)
	tk := mustKey(t, "reopen")
	s := mustOpen(t, Options{URI: uriFor(reopenToken, tk.label)})
	k, err := s.Key(t.Context())
	if err != nil {
		t.Fatalf("Key = %v", err)
	}
	mustSignVerify(t, k, "before")
	before, err := s.session(nil)
	if err != nil {
		t.Fatal(err)
	}
	mustCloseAllSessions(t, reopenToken)
	mustSignVerify(t, k, "after")
	after, err := s.session(nil)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("the store did not open the token again")
	}
}

// mustCloseAllSessions calls C_CloseAllSessions on the token's slot through
// a second handle on the module, which this process has already initialized.
func mustCloseAllSessions(t *testing.T, token string) {
	t.Helper()
	m := p11.New(softhsmModule)
	if m == nil {
		t.Fatal("load module")
	}
	defer m.Destroy()
	if err := m.Initialize(); err != nil && !errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		t.Fatalf("C_Initialize: %v", err)
	}
	slots, err := m.GetSlotList(true)
	if err != nil {
		t.Fatalf("C_GetSlotList: %v", err)
	}
	for _, slot := range slots {
		info, err := m.GetTokenInfo(slot)
		if err != nil {
			t.Fatalf("C_GetTokenInfo: %v", err)
		}
		if strings.TrimRight(info.Label, " ") == token {
			if err := m.CloseAllSessions(slot); err != nil {
				t.Fatalf("C_CloseAllSessions: %v", err)
			}
			return
		}
	}
	t.Fatalf("token %q not found", token)
}
