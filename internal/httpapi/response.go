package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	asmbase64 "github.com/segmentio/asm/base64"

	"sello/internal/signing"
)

// encodeFunc encodes len(src) bytes into base64 (standard alphabet, padded)
// in dst, which has room for the encoded length.
type encodeFunc func(dst, src []byte)

// simdBase64 encodes with the vector instructions of the CPU where it has
// them; it is several times faster than encoding/base64 on large documents
// (BenchmarkBase64Writer).
func simdBase64(dst, src []byte) { asmbase64.StdEncoding.Encode(dst, src) }

// b64Chunk is how many input bytes are encoded at a time: a multiple of 3,
// so that no padding appears before the end.
const b64Chunk = 3 * 16 << 10

// base64Writer encodes what is written to it as standard base64 into w, in
// chunks, without ever holding the whole encoding. Close writes the final
// partial group with its padding.
type base64Writer struct {
	w      io.Writer
	encode encodeFunc
	in     []byte // pending input, len < b64Chunk between calls
	out    []byte
}

func newBase64Writer(w io.Writer, encode encodeFunc) *base64Writer {
	return &base64Writer{
		w:      w,
		encode: encode,
		in:     make([]byte, 0, b64Chunk),
		out:    make([]byte, b64Chunk/3*4),
	}
}

// Write buffers p and encodes every full chunk.
func (b *base64Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(b.in[len(b.in):cap(b.in)], p)
		b.in = b.in[:len(b.in)+k]
		p = p[k:]
		n += k
		if len(b.in) == cap(b.in) {
			if err := b.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom reads r straight into the input buffer, saving the copy that
// io.Copy would make.
func (b *base64Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		k, err := r.Read(b.in[len(b.in):cap(b.in)])
		b.in = b.in[:len(b.in)+k]
		total += int64(k)
		if len(b.in) == cap(b.in) {
			if ferr := b.flush(); ferr != nil {
				return total, ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// flush encodes and writes the pending input.
func (b *base64Writer) flush() error {
	if len(b.in) == 0 {
		return nil
	}
	m := (len(b.in) + 2) / 3 * 4
	b.encode(b.out[:m], b.in)
	b.in = b.in[:0]
	_, err := b.w.Write(b.out[:m])
	return err
}

// reset makes b write to w, dropping pending input.
func (b *base64Writer) reset(w io.Writer) {
	b.w = w
	b.in = b.in[:0]
}

// Close writes what is left, padded. It does not close w.
func (b *base64Writer) Close() error { return b.flush() }

// resultWriter writes the 200 body of POST /sign-documents as it goes:
// {"signedDocuments": [...]}, each signed document base64-encoded straight
// from memory or its temporary file. Its buffers are reused across
// requests.
type resultWriter struct {
	encode encodeFunc
	bufs   *sync.Pool // of *responseBuffers
}

// responseBuffers are the buffers one response needs.
type responseBuffers struct {
	bw  *bufio.Writer
	b64 *base64Writer
}

func newResultWriter(encode encodeFunc) resultWriter {
	return resultWriter{encode: encode, bufs: &sync.Pool{New: func() any {
		return &responseBuffers{bw: bufio.NewWriterSize(nil, 64<<10), b64: newBase64Writer(nil, encode)}
	}}}
}

// write writes results to w. An error means the body is incomplete and the
// connection must be dropped: the status line is already sent.
func (rw resultWriter) write(w http.ResponseWriter, results []signing.Result) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// Signed documents are per-request results: never cached.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bufs := rw.bufs.Get().(*responseBuffers)
	defer func() {
		bufs.bw.Reset(nil)
		bufs.b64.reset(nil)
		rw.bufs.Put(bufs)
	}()
	bw := bufs.bw
	bw.Reset(w)
	bw.WriteString(`{"signedDocuments":[`)
	for i, r := range results {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(`{"referenceNumber":`)
		writeJSONString(bw, r.ReferenceNumber)
		bw.WriteString(`,"documentId":`)
		writeJSONString(bw, r.DocumentID)
		bw.WriteString(`,"signedDocument":`)
		if r.Signed == nil {
			bw.WriteString("null")
		} else {
			bw.WriteByte('"')
			enc := bufs.b64
			enc.reset(bw)
			if _, err := r.Signed.WriteTo(enc); err != nil {
				return err
			}
			if err := enc.Close(); err != nil {
				return err
			}
			bw.WriteByte('"')
		}
		bw.WriteString(`,"status":`)
		writeJSONString(bw, string(r.Status))
		bw.WriteString(`,"errorReason":`)
		if r.ErrorReason == "" {
			bw.WriteString("null")
		} else {
			writeJSONString(bw, r.ErrorReason)
		}
		bw.WriteByte('}')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// writeJSONString writes s as a JSON string.
func writeJSONString(w *bufio.Writer, s string) {
	b, err := json.Marshal(s)
	if err != nil {
		// A string always marshals; keep the output valid regardless.
		w.WriteString(strconv.Quote(""))
		return
	}
	w.Write(b)
}
