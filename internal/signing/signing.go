package signing

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"sello/internal/identity"
	"sello/internal/keys"
	"sello/internal/pades"
)

// ErrOverloaded reports that a batch could not start within the queue
// timeout because the service is busy signing other batches. Callers should
// ask the client to retry later.
var ErrOverloaded = errors.New("signing: too many documents being signed; retry later")

// IdentityChecker turns clientInfo (a transaction number or a JSON object
// with the signer's data) into the validated signer for an account, and
// consumes single-use transactions once a batch is signed.
// *identity.Checker implements it.
//
// Check's refusals match identity.ErrNotValidated; every document of the
// batch then fails with the specification's "Identity validation error.".
// A refusal with identity.RuleUnavailable (the provider could not answer)
// and any other error are service faults. Consume has the same error
// contract; when it refuses (a concurrent request used the transaction
// first), the batch's signed documents are discarded and fail.
type IdentityChecker interface {
	Check(ctx context.Context, account, clientInfo string) (*identity.Signer, error)
	Consume(ctx context.Context, account string, signer *identity.Signer) error
}

// KeySource returns the key a batch is signed with: a certificate issued on
// demand for the signer, or a fixed organisation seal. Its errors are
// service faults.
type KeySource interface {
	Key(ctx context.Context, signer *identity.Signer) (*keys.Key, error)
}

// SignedDocument is a signed PDF that can be written out, possibly more than
// once. *pades.Signed implements it.
type SignedDocument interface {
	// Size returns the length of the signed document in bytes.
	Size() int64
	// WriteTo writes the whole signed document to w.
	WriteTo(w io.Writer) (int64, error)
}

// DocumentSigner signs the size bytes of src. Errors that say what is wrong
// with the document are mapped to an errorReason by [Reason]; all others are
// service faults. [PAdES] is the production implementation.
type DocumentSigner func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error)

// PAdES signs with [pades.Sign].
func PAdES(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (SignedDocument, error) {
	s, err := pades.Sign(ctx, src, size, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Options configures a [Service].
type Options struct {
	// Identity, Keys and Audit are required.
	Identity IdentityChecker
	Keys     KeySource
	Audit    AuditLog
	// Sign signs one document; nil means [PAdES].
	Sign DocumentSigner

	// Hash is the signature's digest algorithm; zero means SHA-256.
	Hash crypto.Hash
	// PSS selects RSASSA-PSS for RSA keys.
	PSS bool

	// MaxSigning bounds the documents signed at the same time by all the
	// batches of the service; zero means 2 × GOMAXPROCS.
	MaxSigning int
	// MaxSigningPerBatch bounds the documents of one batch signed at the
	// same time; zero means GOMAXPROCS. It is capped by MaxSigning.
	MaxSigningPerBatch int
	// QueueTimeout is how long a batch waits for signing capacity before
	// failing with ErrOverloaded; zero means 2 s.
	QueueTimeout time.Duration

	// UnavailableIsFault makes an identity provider that cannot answer a
	// fault of the service (ErrIdentityUnavailable, answered with 500)
	// instead of failing every document with the identity errorReason,
	// which is the default.
	UnavailableIsFault bool

	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// NewID returns a new document identifier; nil means a UUIDv7.
	NewID func() (string, error)
}

// Service signs batches of documents. It is safe for concurrent use.
type Service struct {
	identity     IdentityChecker
	keys         KeySource
	audit        AuditLog
	sign         DocumentSigner
	hash         crypto.Hash
	pss          bool
	sem          *semaphore.Weighted
	maxSigning   int
	perBatch     int
	queueTimeout time.Duration
	// unavailableIsFault: see Options.UnavailableIsFault.
	unavailableIsFault bool
	now                func() time.Time
	newID              func() (string, error)
}

// New returns a Service. It fails when a required option is missing.
func New(opts Options) (*Service, error) {
	if opts.Identity == nil || opts.Keys == nil || opts.Audit == nil {
		return nil, errors.New("signing: Identity, Keys and Audit are required")
	}
	s := &Service{
		identity:           opts.Identity,
		keys:               opts.Keys,
		audit:              opts.Audit,
		sign:               opts.Sign,
		hash:               opts.Hash,
		pss:                opts.PSS,
		maxSigning:         opts.MaxSigning,
		perBatch:           opts.MaxSigningPerBatch,
		queueTimeout:       opts.QueueTimeout,
		unavailableIsFault: opts.UnavailableIsFault,
		now:                opts.Now,
		newID:              opts.NewID,
	}
	if s.sign == nil {
		s.sign = PAdES
	}
	if s.maxSigning <= 0 {
		s.maxSigning = 2 * runtime.GOMAXPROCS(0)
	}
	if s.perBatch <= 0 {
		s.perBatch = runtime.GOMAXPROCS(0)
	}
	s.perBatch = min(s.perBatch, s.maxSigning)
	if s.queueTimeout <= 0 {
		s.queueTimeout = 2 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = newUUIDv7
	}
	s.sem = semaphore.NewWeighted(int64(s.maxSigning))
	return s, nil
}

func newUUIDv7() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// Document is one document of a batch.
type Document struct {
	ReferenceNumber string
	// Content holds the document's Size bytes. It must stay readable until
	// the results have been written out.
	Content io.ReaderAt
	Size    int64
}

// Request is a batch of documents to sign for one person.
type Request struct {
	// RequestID, ClientID, Account and Project identify the request in the
	// audit log.
	RequestID string
	ClientID  string
	Account   string
	Project   string
	// ClientInfo names the signer: a transaction number or a JSON object.
	ClientInfo string
	// Page is the zero-based page of the visible signature; negative counts
	// from the end.
	Page int
	// Rect places the visible signature; nil makes it invisible.
	Rect *pades.Rect
	// Documents are signed with the same key and appearance.
	Documents []Document
}

// Result is the outcome of one document.
type Result struct {
	ReferenceNumber string
	DocumentID      string
	Status          Status
	// ErrorReason says why the document failed; empty on success.
	ErrorReason string
	// Signed is the signed document; nil when Status is StatusFail.
	Signed SignedDocument
	// Elapsed is the time spent hashing and signing the document; zero
	// when the batch failed before signing (identity refused).
	Elapsed time.Duration
}

// Sign signs the documents of req and returns one Result per document, in
// the order of req.Documents, after their audit entries are recorded. A
// document's own problem gives it StatusFail and never affects the others.
// The error is ErrOverloaded when signing capacity stays busy for the queue
// timeout, the context's error when ctx ends, and otherwise a service fault
// (key source, audit log, or a signing error that is not the document's
// fault); no results are returned with an error.
func (s *Service) Sign(ctx context.Context, req Request) ([]Result, error) {
	if len(req.Documents) == 0 {
		return nil, errors.New("signing: no documents")
	}
	ids := make([]string, len(req.Documents))
	for i := range ids {
		id, err := s.newID()
		if err != nil {
			return nil, fmt.Errorf("new document id: %w", err)
		}
		ids[i] = id
	}

	signer, err := s.identity.Check(ctx, req.Account, req.ClientInfo)
	if err != nil {
		if !s.refused(err) {
			return nil, fmt.Errorf("check identity: %w", err)
		}
		return s.failAll(ctx, req, ids, err)
	}

	weight := int64(min(len(req.Documents), s.perBatch))
	if err := s.acquire(ctx, weight); err != nil {
		return nil, err
	}
	defer s.sem.Release(weight)

	key, err := s.keys.Key(ctx, signer)
	if err != nil {
		if _, ok := Reason(err); ok {
			// The signer's data cannot be certified: the batch fails as
			// an identity error, not as a fault of the service.
			return s.failAll(ctx, req, ids, err)
		}
		return nil, fmt.Errorf("get signing key: %w", err)
	}
	opts := pades.Options{
		Key:            key,
		Hash:           s.hash,
		PSS:            s.pss,
		Page:           req.Page,
		Rect:           req.Rect,
		Name:           signer.Name,
		Identification: signer.Identification(),
		Reason:         signer.Reason,
		Location:       signer.Location,
		Now:            s.now,
	}
	serial := ""
	if cert := key.Certificate(); cert != nil && cert.SerialNumber != nil {
		serial = cert.SerialNumber.Text(16)
	}

	results := make([]Result, len(req.Documents))
	entries := make([]AuditEntry, len(req.Documents))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(int(weight))
	for i, doc := range req.Documents {
		g.Go(func() error {
			start := time.Now()
			res, entry, err := s.signOne(gctx, doc, opts)
			if err != nil {
				return fmt.Errorf("sign document %d: %w", i, err)
			}
			res.Elapsed = time.Since(start)
			res.DocumentID, entry.DocumentID = ids[i], ids[i]
			entry.RequestID, entry.ClientID = req.RequestID, req.ClientID
			entry.Account, entry.Project = req.Account, req.Project
			entry.SignerName, entry.SignerIdentification = signer.Name, signer.Identification()
			entry.SignerSource, entry.TransactionNumber = signer.Source, signer.Transaction
			entry.CertificateSerial = serial
			results[i], entries[i] = res, entry
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := s.consume(ctx, req.Account, signer, results, entries); err != nil {
		return nil, err
	}
	if err := s.audit.Record(ctx, entries); err != nil {
		return nil, fmt.Errorf("record audit entries: %w", err)
	}
	return results, nil
}

// refused reports whether err fails the batch's documents with the identity
// errorReason: the identity check refused the signer, or could not answer
// and the service is not configured to treat that as its own fault.
func (s *Service) refused(err error) bool {
	var re *identity.RuleError
	if s.unavailableIsFault && errors.As(err, &re) && re.Rule == identity.RuleUnavailable {
		return false
	}
	return errors.Is(err, identity.ErrNotValidated)
}

// consume uses up a single-use transaction once the batch has at least one
// signed document. When another request consumed it first, the signed
// documents are discarded and fail with the identity errorReason.
func (s *Service) consume(ctx context.Context, account string, signer *identity.Signer, results []Result, entries []AuditEntry) error {
	signed := false
	for _, r := range results {
		signed = signed || r.Status == StatusSuccess
	}
	if !signed {
		return nil
	}
	err := s.identity.Consume(ctx, account, signer)
	if err == nil {
		return nil
	}
	if !s.refused(err) {
		return fmt.Errorf("consume transaction: %w", err)
	}
	reason, ok := Reason(err)
	if !ok {
		return fmt.Errorf("consume transaction: %w", err)
	}
	for i := range results {
		if results[i].Status == StatusSuccess {
			results[i] = Result{ReferenceNumber: results[i].ReferenceNumber, DocumentID: results[i].DocumentID, Status: StatusFail, ErrorReason: reason}
			entries[i].Status, entries[i].ErrorReason, entries[i].SignedSHA256 = StatusFail, reason, ""
			entries[i].Detail = err.Error()
		}
	}
	return nil
}

// acquire waits for weight units of signing capacity, at most the queue
// timeout.
func (s *Service) acquire(ctx context.Context, weight int64) error {
	if s.sem.TryAcquire(weight) {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.queueTimeout)
	defer cancel()
	if err := s.sem.Acquire(wctx, weight); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrOverloaded
	}
	return nil
}

// failAll fails every document of req with the errorReason of cause.
func (s *Service) failAll(ctx context.Context, req Request, ids []string, cause error) ([]Result, error) {
	reason, ok := Reason(cause)
	if !ok {
		return nil, cause
	}
	results := make([]Result, len(req.Documents))
	entries := make([]AuditEntry, len(req.Documents))
	for i, doc := range req.Documents {
		sum, err := digest(doc)
		if err != nil {
			return nil, fmt.Errorf("hash document %d: %w", i, err)
		}
		results[i] = Result{
			ReferenceNumber: doc.ReferenceNumber,
			DocumentID:      ids[i],
			Status:          StatusFail,
			ErrorReason:     reason,
		}
		entries[i] = AuditEntry{
			DocumentID:      ids[i],
			RequestID:       req.RequestID,
			ReferenceNumber: doc.ReferenceNumber,
			ClientID:        req.ClientID,
			Account:         req.Account,
			Project:         req.Project,
			OriginalSHA256:  hex.EncodeToString(sum.Sum(nil)),
			Status:          StatusFail,
			ErrorReason:     reason,
			Detail:          cause.Error(),
			Time:            s.now(),
		}
	}
	if err := s.audit.Record(ctx, entries); err != nil {
		return nil, fmt.Errorf("record audit entries: %w", err)
	}
	return results, nil
}

// signOne signs one document. The returned entry lacks the batch-wide
// fields, which the caller fills in.
func (s *Service) signOne(ctx context.Context, doc Document, opts pades.Options) (Result, AuditEntry, error) {
	res := Result{ReferenceNumber: doc.ReferenceNumber}
	entry := AuditEntry{ReferenceNumber: doc.ReferenceNumber}
	signed, err := s.sign(ctx, doc.Content, doc.Size, opts)
	if err != nil {
		if ctx.Err() != nil {
			return res, entry, ctx.Err()
		}
		reason, ok := Reason(err)
		if !ok {
			return res, entry, err
		}
		orig, herr := digest(doc)
		if herr != nil {
			return res, entry, fmt.Errorf("hash original: %w", herr)
		}
		entry.OriginalSHA256 = hex.EncodeToString(orig.Sum(nil))
		res.Status, res.ErrorReason = StatusFail, reason
		entry.Status, entry.ErrorReason, entry.Detail = StatusFail, reason, err.Error()
		entry.Time = s.now()
		return res, entry, nil
	}
	orig, sum, err := digests(doc, signed)
	if err != nil {
		return res, entry, fmt.Errorf("hash documents: %w", err)
	}
	entry.OriginalSHA256 = hex.EncodeToString(orig)
	res.Status, res.Signed = StatusSuccess, signed
	entry.Status, entry.SignedSHA256 = StatusSuccess, hex.EncodeToString(sum)
	entry.Time = s.now()
	return res, entry, nil
}

// digest returns a SHA-256 hash that has consumed the document's bytes.
func digest(doc Document) (hash.Hash, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(doc.Content, 0, doc.Size)); err != nil {
		return nil, err
	}
	return h, nil
}

// digests returns the SHA-256 digests of the original and of the signed
// document. A signed document that reports them (a *pades.Signed kept the
// state of its own SHA-256 pass) costs no further read; otherwise both are
// read once.
func digests(doc Document, signed SignedDocument) (orig, sum []byte, err error) {
	if d, ok := signed.(interface {
		Digests() (original, signed []byte, err error)
	}); ok {
		return d.Digests()
	}
	h, err := digest(doc)
	if err != nil {
		return nil, nil, err
	}
	orig = h.Sum(nil)
	h = sha256.New()
	if _, err := signed.WriteTo(h); err != nil {
		return nil, nil, err
	}
	return orig, h.Sum(nil), nil
}
