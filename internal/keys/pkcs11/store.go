//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"sello/internal/keys"
)

// Store is a signing key in a PKCS#11 token, with its certificate chain. It
// is safe for concurrent use; Close it when done.
type Store struct {
	cfg   *config
	chain []*x509.Certificate

	mu     sync.Mutex
	cur    *session // nil after a failed re-opening, or once closed
	closed bool
}

// session is one open crypto11 context and the key found in it.
type session struct {
	ctx       *crypto11.Context
	signer    crypto11.Signer
	closeOnce sync.Once
}

// close closes the context once: crypto11 counts module references, and a
// second Close would drop a reference that another context holds.
func (c *session) close() {
	c.closeOnce.Do(func() { c.ctx.Close() })
}

var _ keys.Provider = (*Store)(nil)

// Open loads the module, logs in to the token, finds the key pair and its
// certificate, and checks that they match. Configuration mistakes wrap
// [ErrConfig] or [ErrURI]; a missing key or certificate wraps
// [ErrKeyNotFound]; a module or token that cannot be used wraps
// keys.ErrUnavailable.
func Open(opts Options) (*Store, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg}
	cur, err := s.open()
	if err != nil {
		return nil, err
	}
	chain, err := s.loadChain(cur)
	if err != nil {
		cur.close()
		return nil, err
	}
	s.cur, s.chain = cur, chain
	return s, nil
}

// open configures a new crypto11 context and finds the key in it.
func (s *Store) open() (*session, error) {
	c11, err := crypto11.Configure(&crypto11.Config{
		Path:            s.cfg.module,
		TokenLabel:      s.cfg.tokenLabel,
		TokenSerial:     s.cfg.tokenSerial,
		SlotNumber:      s.cfg.slot,
		Pin:             s.cfg.pin,
		MaxSessions:     s.cfg.maxSessions,
		PoolWaitTimeout: s.cfg.poolWait,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: open token with module %s: %v", keys.ErrUnavailable, s.cfg.module, err)
	}
	signers, err := c11.FindKeyPairs(s.cfg.keyID, labelBytes(s.cfg.keyLabel))
	if err != nil {
		c11.Close()
		return nil, fmt.Errorf("%w: find key %s: %v", keys.ErrUnavailable, s.keyName(), err)
	}
	switch len(signers) {
	case 0:
		c11.Close()
		return nil, fmt.Errorf("%w: no key pair with %s", ErrKeyNotFound, s.keyName())
	case 1:
	default:
		c11.Close()
		return nil, fmt.Errorf("%w: %d key pairs with %s; give an id", ErrConfig, len(signers), s.keyName())
	}
	return &session{ctx: c11, signer: signers[0]}, nil
}

func labelBytes(label string) []byte {
	if label == "" {
		return nil
	}
	return []byte(label)
}

func (s *Store) keyName() string {
	var parts []string
	if s.cfg.keyLabel != "" {
		parts = append(parts, fmt.Sprintf("label %q", s.cfg.keyLabel))
	}
	if len(s.cfg.keyID) > 0 {
		parts = append(parts, fmt.Sprintf("id %x", s.cfg.keyID))
	}
	return strings.Join(parts, " and ")
}

// loadChain reads the certificate chain from the configured file or the
// token and checks that its first certificate is the key's.
func (s *Store) loadChain(cur *session) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	if s.cfg.certFile != "" {
		var err error
		if chain, err = readChain(s.cfg.certFile); err != nil {
			return nil, err
		}
	} else {
		var cert *x509.Certificate
		var err error
		if len(s.cfg.keyID) > 0 {
			cert, err = cur.ctx.FindCertificate(s.cfg.keyID, nil, nil)
		}
		if cert == nil && err == nil && s.cfg.keyLabel != "" {
			cert, err = cur.ctx.FindCertificate(nil, []byte(s.cfg.keyLabel), nil)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: find certificate for %s: %v", keys.ErrUnavailable, s.keyName(), err)
		}
		if cert == nil {
			return nil, fmt.Errorf("%w: no certificate with %s on the token; give a certificate file", ErrKeyNotFound, s.keyName())
		}
		chain = []*x509.Certificate{cert}
	}
	if !samePublicKey(chain[0].PublicKey, cur.signer.Public()) {
		return nil, fmt.Errorf("%w: certificate %q is not for key %s", ErrConfig, chain[0].Subject, s.keyName())
	}
	return chain, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// readChain reads every CERTIFICATE block of a PEM file, in order.
func readChain(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read certificate file: %v", ErrConfig, err)
	}
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate file %s: %v", ErrConfig, path, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: certificate file %s has no CERTIFICATE block", ErrConfig, path)
	}
	return chain, nil
}

// Key returns the token's key and its chain. It checks ctx first, since a
// PKCS#11 call cannot be cancelled once it starts. The key's Signer goes
// through the store, so it keeps working after the store re-opens the
// token; it fails once the store is closed.
func (s *Store) Key(ctx context.Context) (*keys.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: pkcs11 store is closed", keys.ErrUnavailable)
	}
	return &keys.Key{
		Signer: &signer{store: s, public: s.chain[0].PublicKey},
		Chain:  append([]*x509.Certificate(nil), s.chain...),
	}, nil
}

// Close closes the token's sessions, after the signatures in progress end.
func (s *Store) Close() error {
	s.mu.Lock()
	cur := s.cur
	s.cur, s.closed = nil, true
	s.mu.Unlock()
	if cur != nil {
		cur.close()
	}
	return nil
}

// session returns the open session. When failed is the open session, or
// the last re-opening failed, it opens the token again first; concurrent
// callers that saw the same failure re-open it only once.
func (s *Store) session(failed *session) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: pkcs11 store is closed", keys.ErrUnavailable)
	}
	if s.cur != nil && s.cur != failed {
		return s.cur, nil
	}
	if s.cur != nil {
		// Close first: when this is the module's last context, the
		// module is finalized and initialized again, which recovers
		// from a lost device too. Close waits for the sessions in use.
		s.cur.close()
		s.cur = nil
	}
	next, err := s.open()
	if err != nil {
		return nil, err
	}
	if !samePublicKey(s.chain[0].PublicKey, next.signer.Public()) {
		next.close()
		return nil, fmt.Errorf("%w: key %s changed on the token", keys.ErrUnavailable, s.keyName())
	}
	s.cur = next
	return next, nil
}

// signer is the crypto.Signer handed out by Key.
type signer struct {
	store  *Store
	public crypto.PublicKey
}

// Public returns the key's public half.
func (k *signer) Public() crypto.PublicKey { return k.public }

// Sign signs digest on the token. RSA-PSS with rsa.PSSSaltLengthAuto signs
// with a salt as long as the hash, which every PSS verifier accepts. When
// the token or its session was lost, Sign opens the token again and retries
// once; errors that remain then wrap keys.ErrUnavailable.
func (k *signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if pss, ok := opts.(*rsa.PSSOptions); ok && pss.SaltLength == rsa.PSSSaltLengthAuto {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: pss.Hash}
	}
	cur, err := k.store.session(nil)
	if err != nil {
		return nil, err
	}
	sig, err := cur.signer.Sign(rand, digest, opts)
	if err == nil {
		return sig, nil
	}
	if !tokenLost(err) {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	next, rerr := k.store.session(cur)
	if rerr != nil {
		return nil, fmt.Errorf("pkcs11: sign: %v; reopen token: %w", err, rerr)
	}
	sig, err = next.signer.Sign(rand, digest, opts)
	if err != nil {
		if tokenLost(err) {
			return nil, fmt.Errorf("%w: pkcs11: sign after reopening the token: %v", keys.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	return sig, nil
}

// lostCodes are the PKCS#11 return values (PKCS#11 v2.40 §5.1) after which
// a session or the whole token must be opened again.
var lostCodes = map[p11.Error]bool{
	p11.CKR_SESSION_HANDLE_INVALID:   true,
	p11.CKR_SESSION_CLOSED:           true,
	p11.CKR_DEVICE_ERROR:             true,
	p11.CKR_DEVICE_REMOVED:           true,
	p11.CKR_TOKEN_NOT_PRESENT:        true,
	p11.CKR_TOKEN_NOT_RECOGNIZED:     true,
	p11.CKR_USER_NOT_LOGGED_IN:       true,
	p11.CKR_CRYPTOKI_NOT_INITIALIZED: true,
	p11.CKR_KEY_HANDLE_INVALID:       true,
	p11.CKR_OBJECT_HANDLE_INVALID:    true,
	p11.CKR_GENERAL_ERROR:            true,
}

// tokenLost reports whether err shows that the token or its sessions are
// gone. crypto11 reports a closed context only by its message.
func tokenLost(err error) bool {
	var code p11.Error
	if errors.As(err, &code) {
		return lostCodes[code]
	}
	return strings.Contains(err.Error(), "context is closed")
}
