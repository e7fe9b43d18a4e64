package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"sello/internal/appearance"
	"sello/internal/ca"
	"sello/internal/keys"
	"sello/internal/keys/filekey"
	"sello/internal/pades"
	"sello/internal/signing"
	"sello/internal/tsa"
)

// signResult is one line of `sello sign --json`.
type signResult struct {
	In     string `json:"in"`
	Out    string `json:"out,omitempty"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
}

func runSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "PDF `file` to sign, or a quoted glob such as 'dir/*.pdf' for many")
	out := fs.String("out", "", "signed PDF `file` to write (one input)")
	outDir := fs.String("out-dir", "", "`directory` for the signed files (several inputs); created if needed")
	page := fs.Int("page", 0, "zero-based page of the visible signature; negative counts from the end (-1 is the last page)")
	rect := fs.String("rect", "", "`x1,y1,x2,y2`: two opposite corners in points, as the page is shown, origin at its visible lower-left corner; empty for an invisible signature")
	name := fs.String("name", "", "signer's name shown in the signature (default: the certificate's common name)")
	id := fs.String("id", "", "signer's identification, such as \"CC 1020304050\"")
	reason := fs.String("reason", "", "reason for signing (optional)")
	location := fs.String("location", "", "place of signing (optional)")
	keyFile := fs.String("key", "", "private key PEM `file` (PKCS#1, PKCS#8 or SEC1); needs --cert")
	certFile := fs.String("cert", "", "certificate chain PEM `file`, signer first")
	p12 := fs.String("p12", "", "PKCS#12 `file` with the key and its chain (password from SELLO_P12_PASSWORD)")
	hashName := fs.String("hash", "sha256", "digest algorithm: sha256, sha384 or sha512")
	pss := fs.Bool("pss", false, "sign with RSASSA-PSS (RSA keys)")
	fontFile := fs.String("font", os.Getenv("SELLO_SIGN_FONT_FILE"), "TrueType `file` for stamp text that Helvetica cannot show, such as DejaVuSans.ttf for Vietnamese names (env SELLO_SIGN_FONT_FILE)")
	tsaURL := fs.String("tsa", os.Getenv("SELLO_TSA_URL"), "`URL` of an RFC 3161 time-stamping authority: PAdES B-T instead of B-B (env SELLO_TSA_URL)")
	jobs := fs.Int("jobs", runtime.NumCPU(), "files signed in parallel")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	dataDir := dataDirFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sello sign --in a.pdf --out b.pdf [--page 0 --rect 300,300,500,150] --name NAME --id ID [flags]\n       sello sign --in 'dir/*.pdf' --out-dir signed/ [flags]\n\nWith no --key/--cert or --p12, a certificate for --name is issued by the development CA\nkept in the data directory (created on first use).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sello sign: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *in == "" {
		return fail("--in is required")
	}
	inputs, err := expandInputs(*in)
	if err != nil {
		return fail("%v", err)
	}
	batch := *outDir != "" || len(inputs) > 1 || strings.ContainsAny(*in, "*?[")
	switch {
	case batch && *out != "":
		return fail("--out names one file; use --out-dir for several inputs")
	case batch && *outDir == "":
		return fail("several inputs need --out-dir")
	case !batch && *out == "":
		return fail("--out is required")
	}
	hash, ok := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}[strings.ToLower(*hashName)]
	if !ok {
		return fail("--hash must be sha256, sha384 or sha512")
	}
	var r *pades.Rect
	if *rect != "" {
		if r, err = parseRectFlag(*rect); err != nil {
			return fail("--rect: %v", err)
		}
	}

	if *keyFile == "" && *certFile == "" && *p12 == "" && (*name == "" || *id == "") {
		return fail("--name and --id are required when no key is given (the development CA issues a certificate for that person)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	key, err := signingKey(ctx, *keyFile, *certFile, *p12, *dataDir, *name, *id)
	if err != nil {
		fmt.Fprintf(stderr, "sello sign: %v\n", err)
		return 1
	}
	var stamper pades.Timestamper
	if *tsaURL != "" {
		c, err := tsa.New(tsa.Options{URL: *tsaURL, HTTPClient: &http.Client{Timeout: 30 * time.Second}})
		if err != nil {
			return fail("--tsa: %v", err)
		}
		stamper = c
	}
	signer := *name
	if signer == "" {
		signer = key.Certificate().Subject.CommonName
	}
	builder, err := stampBuilder(*fontFile)
	if err != nil {
		return fail("--font: %v", err)
	}
	opts := pades.Options{
		Appearance:     builder,
		Timestamper:    stamper,
		Key:            key,
		Hash:           hash,
		PSS:            *pss,
		Page:           *page,
		Rect:           r,
		Name:           signer,
		Identification: *id,
		Reason:         *reason,
		Location:       *location,
	}

	if !batch {
		res := signFile(ctx, inputs[0], *out, opts)
		if *asJSON {
			json.NewEncoder(stdout).Encode(res)
		} else if res.Error != "" {
			fmt.Fprintf(stderr, "sello sign: %s: %s\n", res.In, res.Error)
		} else {
			fmt.Fprintf(stdout, "signed %s -> %s (%d bytes)\n", res.In, res.Out, res.Bytes)
		}
		if res.Error != "" {
			return 1
		}
		return 0
	}

	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fail("%v", err)
	}
	return signMany(ctx, inputs, *outDir, opts, max(*jobs, 1), *asJSON, stdout, stderr)
}

// signMany signs inputs in parallel into outDir, with a progress bar on a
// terminal and plain lines otherwise, then a summary.
func signMany(ctx context.Context, inputs []string, outDir string, opts pades.Options, jobs int, asJSON bool, stdout, stderr io.Writer) int {
	results := make([]signResult, len(inputs))
	var done atomic.Int64
	var mu sync.Mutex
	tty := false
	if f, ok := stderr.(*os.File); ok && !asJSON {
		tty = term.IsTerminal(int(f.Fd()))
	}
	report := func(res signResult) {
		mu.Lock()
		defer mu.Unlock()
		n := done.Add(1)
		switch {
		case asJSON:
			json.NewEncoder(stdout).Encode(res)
		case tty:
			const width = 30
			fill := int(n) * width / len(inputs)
			fmt.Fprintf(stderr, "\r[%s%s] %d/%d", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), n, len(inputs))
			if res.Error != "" {
				fmt.Fprintf(stderr, "\r\033[K%s: %s\n", res.In, res.Error)
			}
		case res.Error != "":
			fmt.Fprintf(stderr, "FAIL %s: %s\n", res.In, res.Error)
		default:
			fmt.Fprintf(stdout, "ok   %s -> %s\n", res.In, res.Out)
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, len(inputs)) {
		wg.Go(func() {
			for i := range work {
				out := filepath.Join(outDir, filepath.Base(inputs[i]))
				results[i] = signFile(ctx, inputs[i], out, opts)
				report(results[i])
			}
		})
	}
	for i := range inputs {
		work <- i
	}
	close(work)
	wg.Wait()
	if tty {
		fmt.Fprintln(stderr)
	}
	failed := 0
	for _, r := range results {
		if r.Error != "" {
			failed++
		}
	}
	if !asJSON {
		fmt.Fprintf(stderr, "%d signed, %d failed\n", len(inputs)-failed, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// signFile signs one file. The output appears only when signing succeeded:
// it is written to a temporary file beside it and renamed into place.
func signFile(ctx context.Context, in, out string, opts pades.Options) signResult {
	res := signResult{In: in, Out: out, Status: "signed"}
	failed := func(err error) signResult {
		return signResult{In: in, Status: "failed", Error: describe(err)}
	}
	src, err := os.Open(in)
	if err != nil {
		return failed(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return failed(err)
	}
	signed, err := pades.Sign(ctx, src, st.Size(), opts)
	if err != nil {
		return failed(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return failed(err)
	}
	h := sha256.New()
	_, err = signed.WriteTo(io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return failed(err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.Bytes = signed.Size()
	return res
}

// expandInputs returns the files a --in value names: the file itself, or
// the matches of a glob pattern.
func expandInputs(in string) ([]string, error) {
	if !strings.ContainsAny(in, "*?[") {
		return []string{in}, nil
	}
	m, err := filepath.Glob(in)
	if err != nil {
		return nil, fmt.Errorf("--in: %v", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("--in: no file matches %q", in)
	}
	return m, nil
}

// parseRectFlag parses "x1,y1,x2,y2".
func parseRectFlag(s string) (*pades.Rect, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, errors.New("want four numbers x1,y1,x2,y2")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		v[i] = f
	}
	return &pades.Rect{X1: v[0], Y1: v[1], X2: v[2], Y2: v[3]}, nil
}

// signingKey loads the key the flags name, or issues a certificate for the
// signer from the development CA in the data directory.
func signingKey(ctx context.Context, keyFile, certFile, p12, dataDir, name, id string) (*keys.Key, error) {
	switch {
	case p12 != "":
		return filekey.LoadPKCS12(p12, os.Getenv("SELLO_P12_PASSWORD"))
	case keyFile != "" || certFile != "":
		if keyFile == "" || certFile == "" {
			return nil, errors.New("--key and --cert go together")
		}
		return filekey.LoadPEM(keyFile, certFile)
	}
	authority, err := ca.LoadOrCreate(caDir(dataDir), ca.Options{})
	if err != nil {
		return nil, err
	}
	idType, idNumber := splitIdentification(id)
	return authority.Issue(ctx, ca.Person{Name: name, IDType: idType, IDNumber: idNumber}, ca.IssueOptions{})
}

// splitIdentification splits "CC 1020304050" into its type and number.
func splitIdentification(id string) (string, string) {
	id = strings.TrimSpace(id)
	if t, n, ok := strings.Cut(id, " "); ok {
		return t, strings.TrimSpace(n)
	}
	return "", id
}

// describe turns a signing error into one line: the reason the service
// would give for the document, with the detail after it.
func describe(err error) string {
	if reason, ok := signing.Reason(err); ok {
		return reason + " (" + err.Error() + ")"
	}
	return err.Error()
}

// stampBuilder returns the appearance builder, drawing the text Helvetica
// cannot show with the TrueType font in file, or with Go Regular when file
// is empty.
func stampBuilder(file string) (*appearance.Builder, error) {
	if file == "" {
		return new(appearance.Builder), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	b, err := appearance.NewBuilder(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return b, nil
}
