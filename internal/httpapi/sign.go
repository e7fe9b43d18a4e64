package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"sello/internal/auth"
	"sello/internal/signing"
)

// msgSignFault is the specification's text for a fault of the service.
const msgSignFault = "Error signing the documents."

// msgOverloaded is the error text of a 503 answered when signing capacity
// stays busy.
const msgOverloaded = "The service is busy signing other documents; retry later."

// BatchSigner signs a batch of documents. *signing.Service implements it.
type BatchSigner interface {
	Sign(ctx context.Context, req signing.Request) ([]signing.Result, error)
}

var _ BatchSigner = (*signing.Service)(nil)

// SignHandlerOptions configures the POST /sign-documents handler. Zero limits
// take the defaults given on each field.
type SignHandlerOptions struct {
	// Signer signs the batches. Required.
	Signer BatchSigner
	// Logger receives one line per service fault; nil discards.
	Logger *slog.Logger
	// Metrics, when not nil, counts each document by status and
	// errorReason, with its size and signing time.
	Metrics *Metrics

	// TempDir holds documents larger than MemoryThreshold while a request
	// runs; empty means os.TempDir(). The files are unlinked as soon as they
	// are created, so nothing is ever left behind.
	TempDir string
	// MaxDocumentBytes bounds one document; default 50 MB.
	MaxDocumentBytes int64
	// MaxRequestBytes bounds a whole request body; default 200 MB.
	MaxRequestBytes int64
	// MaxDocuments bounds the documents of one request; default 20.
	MaxDocuments int
	// MaxFieldBytes bounds one text field (referenceNumber, clientInfo,
	// coordinates); default 64 KiB.
	MaxFieldBytes int64
	// MemoryThreshold is the largest document kept in memory; default 4 MB.
	MemoryThreshold int64
	// MemoryBudget bounds the bytes of documents held in memory by all
	// requests together; beyond it documents go to temporary files.
	// Default 256 MB.
	MemoryBudget int64
	// RetryAfter is the Retry-After sent with 503 when the service is
	// overloaded; default 1 s.
	RetryAfter time.Duration
}

// signHandler serves POST /sign-documents.
type signHandler struct {
	signer     BatchSigner
	logger     *slog.Logger
	metrics    *Metrics
	forms      *formReader
	results    resultWriter
	retryAfter time.Duration
}

// NewSignHandler returns the handler of POST /sign-documents (DESIGN.md §1).
// It must be mounted behind the token check, which puts the caller's
// auth.Principal in the request context. It panics when opts.Signer is nil.
func NewSignHandler(opts SignHandlerOptions) http.Handler {
	if opts.Signer == nil {
		panic("httpapi: NewSignHandler without a Signer")
	}
	limits := formLimits{
		maxDocumentBytes: orDefault(opts.MaxDocumentBytes, 50<<20),
		maxRequestBytes:  orDefault(opts.MaxRequestBytes, 200<<20),
		maxDocuments:     int(orDefault(int64(opts.MaxDocuments), 20)),
		maxFieldBytes:    orDefault(opts.MaxFieldBytes, 64<<10),
		memoryThreshold:  orDefault(opts.MemoryThreshold, 4<<20),
	}
	budget := orDefault(opts.MemoryBudget, 256<<20)
	tempDir := opts.TempDir
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &signHandler{
		signer:     opts.Signer,
		logger:     logger,
		metrics:    opts.Metrics,
		forms:      &formReader{limits: limits, tempDir: tempDir, budget: semaphore.NewWeighted(budget), buffers: &sync.Pool{}},
		results:    newResultWriter(simdBase64),
		retryAfter: time.Duration(orDefault(int64(opts.RetryAfter), int64(time.Second))),
	}
}

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

func (h *signHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	requestID := RequestID(ctx)
	principal, ok := auth.ClientFrom(ctx)
	if !ok {
		h.logger.ErrorContext(ctx, "sign-documents mounted without the token check",
			slog.String("request_id", requestID))
		writeError(w, http.StatusInternalServerError, msgSignFault)
		return
	}
	form, err := h.forms.read(r)
	if err != nil {
		h.fail(w, r, requestID, principal, err)
		return
	}
	defer form.Close()
	params, err := form.validate()
	if err != nil {
		h.fail(w, r, requestID, principal, err)
		return
	}

	req := signing.Request{
		RequestID:  requestID,
		ClientID:   principal.ClientID,
		Account:    principal.Account,
		Project:    principal.Project,
		ClientInfo: params.clientInfo,
		Page:       params.page,
		Rect:       params.rect,
		Documents:  make([]signing.Document, len(params.docs)),
	}
	for i, d := range params.docs {
		req.Documents[i] = signing.Document{ReferenceNumber: params.references[i], Content: d.ReaderAt(), Size: d.size}
	}
	results, err := h.signer.Sign(ctx, req)
	if err != nil {
		h.fail(w, r, requestID, principal, err)
		return
	}
	signed := 0
	for i, res := range results {
		if res.Status == signing.StatusSuccess {
			signed++
		}
		h.metrics.ObserveDocument(string(res.Status), res.ErrorReason, req.Documents[i].Size, res.Elapsed)
	}
	noteDocuments(ctx, signed, len(results)-signed)
	if err := h.results.write(w, results); err != nil {
		// The status line is gone: drop the connection so that the client
		// sees a broken response rather than a truncated document.
		h.logger.ErrorContext(ctx, "write sign-documents response",
			slog.String("request_id", requestID), slog.String("client_id", principal.ClientID), slog.Any("err", err))
		panic(http.ErrAbortHandler)
	}
}

// fail answers a request that produced no results: request errors from the
// error table, overload as 503 with Retry-After, anything else as a logged
// service fault.
func (h *signHandler) fail(w http.ResponseWriter, r *http.Request, requestID string, p *auth.Principal, err error) {
	ctx := r.Context()
	var re *requestError
	switch {
	case errors.As(err, &re):
		if re.status == http.StatusRequestEntityTooLarge {
			// Do not read the rest of a body that is over the limit.
			w.Header().Set("Connection", "close")
		}
		writeError(w, re.status, re.msg)
	case errors.Is(err, signing.ErrOverloaded):
		h.logger.WarnContext(ctx, "signing capacity exhausted",
			slog.String("request_id", requestID), slog.String("client_id", p.ClientID))
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, h.retryAfter.Round(time.Second)/time.Second))))
		writeError(w, http.StatusServiceUnavailable, msgOverloaded)
	case ctx.Err() != nil:
		// The client went away; nobody reads the answer.
		h.logger.InfoContext(ctx, "client gone before the documents were signed",
			slog.String("request_id", requestID), slog.String("client_id", p.ClientID), slog.Any("err", err))
		writeError(w, http.StatusBadRequest, "The request was cancelled.")
	default:
		h.logger.ErrorContext(ctx, "sign documents",
			slog.String("request_id", requestID), slog.String("client_id", p.ClientID), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, msgSignFault)
	}
}
