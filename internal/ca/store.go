package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File names LoadOrCreate uses in its directory.
const (
	KeyFile  = "ca-key.pem"
	CertFile = "ca-cert.pem"
)

// LoadOrCreate loads the CA kept in dir (KeyFile, CertFile), or, when
// neither file exists, creates it: an ECDSA P-256 root whose subject CN is
// opts.Subject, valid for opts.CAValidity, its key written with mode 0600.
// Errors wrap ErrInvalidCA (one file missing, a key that does not match, a
// certificate that is not a CA) or come from the file system. It is not
// safe to call from two processes on an empty directory at once.
func LoadOrCreate(dir string, opts Options) (*CA, error) {
	kp, cp := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	signer, cert, err := loadPair(kp, cp)
	if errors.Is(err, fs.ErrNotExist) {
		signer, cert, err = createRoot(dir, kp, cp, opts)
	}
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %s is not a CA certificate", ErrInvalidCA, cp)
	}
	return New(signer, cert, opts), nil
}

// loadPair reads a PEM key and certificate. It returns an error wrapping
// fs.ErrNotExist only when both files are missing.
func loadPair(keyPath, certPath string) (crypto.Signer, *x509.Certificate, error) {
	kb, kerr := os.ReadFile(keyPath)
	cb, cerr := os.ReadFile(certPath)
	switch {
	case errors.Is(kerr, fs.ErrNotExist) && errors.Is(cerr, fs.ErrNotExist):
		return nil, nil, kerr
	case errors.Is(kerr, fs.ErrNotExist) || errors.Is(cerr, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("%w: only one of %s and %s exists", ErrInvalidCA, keyPath, certPath)
	case kerr != nil:
		return nil, nil, fmt.Errorf("ca: %w", kerr)
	case cerr != nil:
		return nil, nil, fmt.Errorf("ca: %w", cerr)
	}
	blk, _ := pem.Decode(kb)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, nil, fmt.Errorf("%w: %s holds no PKCS#8 PRIVATE KEY", ErrInvalidCA, keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalidCA, keyPath, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s: key cannot sign", ErrInvalidCA, keyPath)
	}
	blk, _ = pem.Decode(cb)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%w: %s holds no CERTIFICATE", ErrInvalidCA, certPath)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalidCA, certPath, err)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("%w: %s does not match %s", ErrInvalidCA, keyPath, certPath)
	}
	return signer, cert, nil
}

// writePair writes key (mode 0600) and cert, each through a temporary file
// renamed into place, the certificate last: a crash leaves either nothing
// or a key without a certificate, which loadPair reports.
func writePair(dir, keyPath, certPath string, key crypto.Signer, cert *x509.Certificate) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("ca: marshal key: %w", err)
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("ca: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("ca: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("ca: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ca: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

func createRoot(dir, keyPath, certPath string, opts Options) (crypto.Signer, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: generate key: %w", err)
	}
	serial, err := randomSerial(opts.rand())
	if err != nil {
		return nil, nil, err
	}
	cn := opts.Subject
	if cn == "" {
		cn = DefaultSubject
	}
	subject := pkix.Name{CommonName: cn}
	if opts.Organization != "" {
		subject.Organization = []string{opts.Organization}
	}
	if opts.Country != "" {
		subject.Country = []string{opts.Country}
	}
	validity := opts.CAValidity
	if validity <= 0 {
		validity = 10 * 365 * 24 * time.Hour
	}
	now := opts.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(key.Public()),
	}
	der, err := x509.CreateCertificate(opts.rand(), tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: create root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: parse root: %w", err)
	}
	if err := writePair(dir, keyPath, certPath, key, cert); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}
