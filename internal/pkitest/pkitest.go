package pkitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"sello/internal/keys"
)

//go:embed testkeys/*.pem
var testKeys embed.FS

// KeyType names a kind of key pair.
type KeyType int

// The key types pkitest can make. The zero value is ECDSA P-256.
const (
	ECDSAP256 KeyType = iota
	ECDSAP384
	RSA2048
	RSA3072
)

// String returns a short name for the key type, usable as a subtest name.
func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "ECDSA-P256"
	case ECDSAP384:
		return "ECDSA-P384"
	case RSA2048:
		return "RSA-2048"
	case RSA3072:
		return "RSA-3072"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// KeyTypes lists every key type, for table tests that cover them all.
func KeyTypes() []KeyType { return []KeyType{ECDSAP256, ECDSAP384, RSA2048, RSA3072} }

// DefaultNotBefore returns the start of validity used when Options leave it
// zero: 2025-01-01 00:00 UTC. A time relative to the clock would make
// certificates differ between runs, so a fixed instant in the past is used.
func DefaultNotBefore() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// Options describe a certificate to create. The zero value is usable.
type Options struct {
	// CommonName is the subject CN; it also selects the key. Empty gives
	// "Test Root CA", "Test Intermediate CA" or "Test Leaf".
	CommonName string
	// Organization and Country fill subject O and C when set.
	Organization string
	Country      string
	// SerialNumber fills the subject serialNumber attribute when set.
	SerialNumber string
	// KeyType is the key kind; zero is ECDSA P-256.
	KeyType KeyType
	// Key overrides the derived key.
	Key crypto.Signer
	// NotBefore is the start of validity; zero is DefaultNotBefore().
	NotBefore time.Time
	// Validity is the length of validity; zero is 20 years for CAs and 10
	// years for leaves.
	Validity time.Duration
	// ExtKeyUsage lists extended key usages for a leaf; nil gives document
	// signing (1.3.6.1.5.5.7.3.36) plus emailProtection.
	ExtKeyUsage []x509.ExtKeyUsage
	// UnknownExtKeyUsage lists extra extended key usage OIDs.
	UnknownExtKeyUsage []asn1.ObjectIdentifier
	// TimeStamping makes a time-stamping authority certificate: the only
	// extended key usage is id-kp-timeStamping, marked critical as RFC 3161
	// §2.3 requires. ExtKeyUsage and UnknownExtKeyUsage are then ignored.
	TimeStamping bool
	// OCSPServer and CRLDistributionPoints are copied into the
	// certificate; for certificates a CA issues, nil means the URLs of
	// that CA's RevocationServer, if started.
	OCSPServer            []string
	CRLDistributionPoints []string
}

// CA is a test certificate authority. Its methods are safe for concurrent
// use.
type CA struct {
	cert   *x509.Certificate
	signer crypto.Signer
	chain  []*x509.Certificate // cert first, then its issuers up to the root

	mu     sync.Mutex
	serial int64
	rev    revocation
}

// NewCA creates a self-signed root CA. It fails the test on error.
func NewCA(t testing.TB, opts Options) *CA {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "Test Root CA"
	}
	key := mustKey(t, opts)
	tmpl := caTemplate(opts, 1)
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("pkitest: create root %q: %v", opts.CommonName, err)
	}
	cert := mustParse(t, der)
	return &CA{cert: cert, signer: key, chain: []*x509.Certificate{cert}, serial: 1}
}

// Certificate returns the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Signer returns the CA's private key.
func (ca *CA) Signer() crypto.Signer { return ca.signer }

// Chain returns the CA's certificate followed by its issuers up to the root.
func (ca *CA) Chain() []*x509.Certificate { return append([]*x509.Certificate(nil), ca.chain...) }

// Root returns the root certificate at the top of the CA's chain.
func (ca *CA) Root() *x509.Certificate { return ca.chain[len(ca.chain)-1] }

// Pool returns a pool holding the root certificate, for x509.VerifyOptions.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root())
	return p
}

func (ca *CA) nextSerial() *big.Int {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.serial++
	return big.NewInt(ca.serial)
}

// NewIntermediate creates a CA certified by ca. It fails the test on error.
func (ca *CA) NewIntermediate(t testing.TB, opts Options) *CA {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "Test Intermediate CA"
	}
	key := mustKey(t, opts)
	ca.revocationURLs(&opts)
	tmpl := caTemplate(opts, 0)
	tmpl.SerialNumber = ca.nextSerial()
	tmpl.MaxPathLen = 0
	tmpl.MaxPathLenZero = true
	der, err := x509.CreateCertificate(nil, tmpl, ca.cert, key.Public(), ca.signer)
	if err != nil {
		t.Fatalf("pkitest: create intermediate %q: %v", opts.CommonName, err)
	}
	cert := mustParse(t, der)
	return &CA{cert: cert, signer: key, chain: append([]*x509.Certificate{cert}, ca.chain...)}
}

// Issue creates a leaf certificate and returns it as a key whose chain is the
// leaf followed by the CA chain up to and including the root. It fails the
// test on error.
func (ca *CA) Issue(t testing.TB, opts Options) *keys.Key {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "Test Leaf"
	}
	key := mustKey(t, opts)
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = DefaultNotBefore()
	}
	validity := opts.Validity
	if validity == 0 {
		validity = 10 * 365 * 24 * time.Hour
	}
	eku := opts.ExtKeyUsage
	unknown := opts.UnknownExtKeyUsage
	if eku == nil && unknown == nil {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		unknown = []asn1.ObjectIdentifier{oidDocumentSigning}
	}
	ca.revocationURLs(&opts)
	tmpl := &x509.Certificate{
		SerialNumber:          ca.nextSerial(),
		Subject:               subject(opts),
		NotBefore:             nb,
		NotAfter:              nb.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           eku,
		UnknownExtKeyUsage:    unknown,
		BasicConstraintsValid: true,
		OCSPServer:            opts.OCSPServer,
		CRLDistributionPoints: opts.CRLDistributionPoints,
	}
	if opts.TimeStamping {
		tmpl.ExtKeyUsage, tmpl.UnknownExtKeyUsage = nil, nil
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, timeStampingEKU())
	}
	der, err := x509.CreateCertificate(nil, tmpl, ca.cert, key.Public(), ca.signer)
	if err != nil {
		t.Fatalf("pkitest: issue %q: %v", opts.CommonName, err)
	}
	leaf := mustParse(t, der)
	return &keys.Key{Signer: key, Chain: append([]*x509.Certificate{leaf}, ca.chain...)}
}

// revocationURLs fills unset revocation URLs of a certificate ca issues
// with those of ca's RevocationServer.
func (ca *CA) revocationURLs(opts *Options) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if opts.OCSPServer == nil && ca.rev.ocspURL != "" {
		opts.OCSPServer = []string{ca.rev.ocspURL}
	}
	if opts.CRLDistributionPoints == nil && ca.rev.crlURL != "" {
		opts.CRLDistributionPoints = []string{ca.rev.crlURL}
	}
}

func caTemplate(opts Options, serial int64) *x509.Certificate {
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = DefaultNotBefore()
	}
	validity := opts.Validity
	if validity == 0 {
		validity = 20 * 365 * 24 * time.Hour
	}
	return &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               subject(opts),
		NotBefore:             nb,
		NotAfter:              nb.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		OCSPServer:            opts.OCSPServer,
		CRLDistributionPoints: opts.CRLDistributionPoints,
	}
}

func subject(opts Options) pkix.Name {
	n := pkix.Name{CommonName: opts.CommonName, SerialNumber: opts.SerialNumber}
	if opts.Organization != "" {
		n.Organization = []string{opts.Organization}
	}
	if opts.Country != "" {
		n.Country = []string{opts.Country}
	}
	return n
}

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("pkitest: parse new certificate: %v", err)
	}
	return c
}

func mustKey(t testing.TB, opts Options) crypto.Signer {
	t.Helper()
	if opts.Key != nil {
		return opts.Key
	}
	k, err := DeriveKey(opts.KeyType, opts.CommonName)
	if err != nil {
		t.Fatalf("pkitest: %v", err)
	}
	return k
}

// DeriveKey returns the test key of type kt for label: the same label always
// gives the same key. ECDSA keys are derived from SHA-256 of the label; RSA
// keys are one of three fixed keys per size, chosen by the label's hash.
func DeriveKey(kt KeyType, label string) (crypto.Signer, error) {
	h := sha256.Sum256([]byte(kt.String() + "\x00" + label))
	switch kt {
	case ECDSAP256:
		return deriveECDSA(elliptic.P256(), h)
	case ECDSAP384:
		return deriveECDSA(elliptic.P384(), h)
	case RSA2048, RSA3072:
		bits := 2048
		if kt == RSA3072 {
			bits = 3072
		}
		i := binary.BigEndian.Uint32(h[:4])%3 + 1
		name := fmt.Sprintf("testkeys/rsa%d-%d.pem", bits, i)
		b, err := testKeys.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an RSA key", name)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("unknown key type %v", kt)
}

// deriveECDSA turns a hash into a private scalar: expanded with a counter
// until it is below the group order, as the raw-key parser demands.
func deriveECDSA(c elliptic.Curve, seed [32]byte) (*ecdsa.PrivateKey, error) {
	size := (c.Params().BitSize + 7) / 8
	for ctr := byte(0); ctr < 255; ctr++ {
		var raw []byte
		for i := byte(0); len(raw) < size; i++ {
			b := sha256.Sum256(append(seed[:], ctr, i))
			raw = append(raw, b[:]...)
		}
		raw = raw[:size]
		if k, err := ecdsa.ParseRawPrivateKey(c, raw); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("derive %s key: no valid scalar", c.Params().Name)
}

// WritePEM writes key's private key (PKCS#8) and chain (leaf first) as PEM
// files in a fresh t.TempDir and returns their paths.
func WritePEM(t testing.TB, key *keys.Key) (keyFile, certFile string) {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(key.Signer)
	if err != nil {
		t.Fatalf("pkitest: marshal key: %v", err)
	}
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatalf("pkitest: %v", err)
	}
	certFile = filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(certFile, ChainPEM(key.Chain), 0o644); err != nil {
		t.Fatalf("pkitest: %v", err)
	}
	return keyFile, certFile
}

// ChainPEM encodes certificates as consecutive PEM CERTIFICATE blocks.
func ChainPEM(chain []*x509.Certificate) []byte {
	var out []byte
	for _, c := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// WritePKCS12 writes key and its chain as a PKCS#12 file protected by
// password in a fresh t.TempDir and returns its path. The file uses the
// modern encoding (AES-256, PBKDF2), which OpenSSL 3 reads too.
func WritePKCS12(t testing.TB, key *keys.Key, password string) string {
	t.Helper()
	if len(key.Chain) == 0 {
		t.Fatal("pkitest: key has no certificate")
	}
	b, err := pkcs12.Modern.Encode(key.Signer, key.Chain[0], key.Chain[1:], password)
	if err != nil {
		t.Fatalf("pkitest: encode PKCS#12: %v", err)
	}
	p := filepath.Join(t.TempDir(), "key.p12")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatalf("pkitest: %v", err)
	}
	return p
}
