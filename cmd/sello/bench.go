package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const benchUsage = `Usage: sello bench [flags]

Drives a running Sello server on this machine (loopback only) with
concurrent POST /sign-documents requests for a fixed time, then prints
documents signed per second, request latency percentiles, errors and,
with --server-pid, the server's peak resident memory (VmHWM).

The token comes from --token, or from POST /token with --client-id and
--client-secret (env SELLO_BENCH_CLIENT_SECRET). The document is --file, or
a generated one-page PDF of --size bytes.

Flags:
`

// maxBenchDuration bounds --duration.
const maxBenchDuration = 10 * time.Minute

// benchConfig is what one bench run does.
type benchConfig struct {
	url          string
	token        string
	clientID     string
	clientSecret string
	account      string
	project      string
	clientInfo   string
	file         string
	size         int64
	docs         int
	concurrency  int
	duration     time.Duration
	rect         string
	page         int
	serverPID    int
	asJSON       bool
}

// benchResult is the outcome of a run, as --json prints it.
type benchResult struct {
	Requests        int     `json:"requests"`
	Documents       int     `json:"documents_signed"`
	Seconds         float64 `json:"seconds"`
	DocumentsPerSec float64 `json:"documents_per_second"`
	DocumentBytes   int64   `json:"document_bytes"`
	P50ms           float64 `json:"p50_ms"`
	P90ms           float64 `json:"p90_ms"`
	P99ms           float64 `json:"p99_ms"`
	Maxms           float64 `json:"max_ms"`
	Errors          int     `json:"errors"`
	// ErrorKinds counts errors by kind: "http 503", "FAIL", "transport".
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// ServerPeakRSS and ServerRSS are in bytes; zero without --server-pid.
	ServerPeakRSS int64 `json:"server_peak_rss_bytes,omitempty"`
	ServerRSS     int64 `json:"server_rss_bytes,omitempty"`
	// ServerCPUSeconds is the CPU time (user + system) the server used
	// during the run; with documents signed it tells the cost of one
	// document apart from what other processes take on a shared machine.
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sello bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	var cfg benchConfig
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fs.StringVar(&cfg.token, "token", "", "access token (else --client-id and --client-secret)")
	fs.StringVar(&cfg.clientID, "client-id", "", "API client id, to get a token")
	fs.StringVar(&cfg.clientSecret, "client-secret", os.Getenv("SELLO_BENCH_CLIENT_SECRET"), "API client secret (env SELLO_BENCH_CLIENT_SECRET)")
	fs.StringVar(&cfg.account, "account", "", "x-account-id")
	fs.StringVar(&cfg.project, "project", "", "x-project-id")
	fs.StringVar(&cfg.clientInfo, "client-info", "", "clientInfo: a transaction number or a JSON object")
	fs.StringVar(&cfg.file, "file", "", "PDF to sign (else a generated one of --size bytes)")
	fs.Int64Var(&cfg.size, "size", 100<<10, "size in bytes of the generated PDF")
	fs.IntVar(&cfg.docs, "docs", 1, "documents per request")
	fs.IntVar(&cfg.concurrency, "concurrency", 16, "concurrent clients")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to send requests (at most 10m)")
	fs.StringVar(&cfg.rect, "rect", "", "visible signature x1,y1,x2,y2 (else invisible)")
	fs.IntVar(&cfg.page, "page", 0, "signaturePage")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "pid of the server, to report its peak RSS from /proc")
	fs.BoolVar(&cfg.asJSON, "json", false, "print machine-readable JSON")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "sello bench: unexpected argument %q\n", pos[0])
		return 2
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "sello bench: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sello bench: %v\n", err)
		return 1
	}
	if cfg.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		printBench(stdout, cfg, res)
	}
	if res.Errors > 0 {
		return 1
	}
	return 0
}

// check validates the configuration, every problem at once.
func (c *benchConfig) check() error {
	var errs []error
	u, err := url.Parse(c.url)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fmt.Errorf("--url %q: want http://HOST:PORT", c.url))
	case !loopbackHost(u.Hostname()):
		errs = append(errs, fmt.Errorf("--url %q: only a server on this machine (127.0.0.1, ::1, localhost) may be driven", c.url))
	}
	if c.token == "" && (c.clientID == "" || c.clientSecret == "") {
		errs = append(errs, errors.New("give --token, or --client-id and --client-secret"))
	}
	if c.account == "" || c.project == "" || c.clientInfo == "" {
		errs = append(errs, errors.New("--account, --project and --client-info are required"))
	}
	if c.file == "" && (c.size < 1<<10 || c.size > 1<<30) {
		errs = append(errs, fmt.Errorf("--size %d: want 1 KiB to 1 GiB", c.size))
	}
	if c.docs < 1 || c.concurrency < 1 {
		errs = append(errs, errors.New("--docs and --concurrency must be at least 1"))
	}
	if c.duration <= 0 || c.duration > maxBenchDuration {
		errs = append(errs, fmt.Errorf("--duration %s: want more than 0 and at most %s", c.duration, maxBenchDuration))
	}
	if c.rect != "" {
		if _, err := parseRect(c.rect); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseRect(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, fmt.Errorf("--rect %q: want x1,y1,x2,y2", s)
	}
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if _, err := strconv.ParseFloat(parts[i], 64); err != nil {
			return nil, fmt.Errorf("--rect %q: %q is not a number", s, p)
		}
	}
	return parts, nil
}

// bench runs the load and gathers the result.
func bench(ctx context.Context, cfg benchConfig) (*benchResult, error) {
	doc, err := benchDocument(cfg)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		IdleConnTimeout:     time.Minute,
	}}
	defer client.CloseIdleConnections()
	base := strings.TrimSuffix(cfg.url, "/")
	token := cfg.token
	if token == "" {
		if token, err = benchToken(ctx, client, base, cfg.clientID, cfg.clientSecret); err != nil {
			return nil, err
		}
	}
	body, contentType, err := benchBody(cfg, doc)
	if err != nil {
		return nil, err
	}

	type outcome struct {
		latencies []time.Duration
		requests  int
		docs      int
		errors    map[string]int
	}
	outcomes := make([]outcome, cfg.concurrency)
	var cpuBefore float64
	if cfg.serverPID > 0 {
		if cpuBefore, err = processCPU(cfg.serverPID); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	deadline := start.Add(cfg.duration)
	// Requests in flight at the deadline finish; a hung one is cut after
	// another minute.
	rctx, cancel := context.WithDeadline(ctx, deadline.Add(time.Minute))
	defer cancel()
	var wg sync.WaitGroup
	for w := range cfg.concurrency {
		wg.Go(func() {
			o := &outcomes[w]
			o.errors = make(map[string]int)
			var buf bytes.Buffer
			for time.Now().Before(deadline) && rctx.Err() == nil {
				t0 := time.Now()
				ok, fails, kind := benchRequest(rctx, client, base, token, cfg, body, contentType, &buf)
				o.latencies = append(o.latencies, time.Since(t0))
				o.requests++
				o.docs += ok
				if fails > 0 {
					o.errors["FAIL"] += fails
				}
				if kind != "" {
					o.errors[kind]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := &benchResult{Seconds: elapsed.Seconds(), DocumentBytes: int64(len(doc)), ErrorKinds: map[string]int{}}
	var all []time.Duration
	for _, o := range outcomes {
		all = append(all, o.latencies...)
		res.Requests += o.requests
		res.Documents += o.docs
		for k, n := range o.errors {
			res.ErrorKinds[k] += n
			res.Errors += n
		}
	}
	if len(res.ErrorKinds) == 0 {
		res.ErrorKinds = nil
	}
	res.DocumentsPerSec = float64(res.Documents) / elapsed.Seconds()
	slices.Sort(all)
	res.P50ms, res.P90ms, res.P99ms = ms(percentile(all, 50)), ms(percentile(all, 90)), ms(percentile(all, 99))
	if len(all) > 0 {
		res.Maxms = ms(all[len(all)-1])
	}
	if cfg.serverPID > 0 {
		if res.ServerPeakRSS, res.ServerRSS, err = processRSS(cfg.serverPID); err != nil {
			return nil, err
		}
		cpuAfter, err := processCPU(cfg.serverPID)
		if err != nil {
			return nil, err
		}
		res.ServerCPUSeconds = cpuAfter - cpuBefore
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// benchRequest sends one request and returns the documents signed, the
// documents that failed, and the kind of request-level error ("" if none).
func benchRequest(ctx context.Context, client *http.Client, base, token string, cfg benchConfig, body []byte, contentType string, buf *bytes.Buffer) (ok, fails int, kind string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/sign-documents", bytes.NewReader(body))
	if err != nil {
		return 0, 0, "transport"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("x-account-id", cfg.account)
	req.Header.Set("x-project-id", cfg.project)
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, "transport"
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, 0, "transport"
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, "http " + strconv.Itoa(resp.StatusCode)
	}
	// The server writes compact JSON; counting the status members spares
	// decoding megabytes of base64 on the same cores as the server.
	ok = bytes.Count(buf.Bytes(), []byte(`"status":"SUCCESS"`))
	fails = bytes.Count(buf.Bytes(), []byte(`"status":"FAIL"`))
	if ok+fails != cfg.docs {
		return ok, fails, "malformed response"
	}
	return ok, fails, ""
}

// benchToken gets an access token with the client_credentials grant.
func benchToken(ctx context.Context, client *http.Client, base, id, secret string) (string, error) {
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", fmt.Errorf("get token: status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("get token: status %d: %s", resp.StatusCode, tok.Error)
	}
	return tok.AccessToken, nil
}

// benchDocument returns --file's bytes or a generated PDF of --size bytes.
func benchDocument(cfg benchConfig) ([]byte, error) {
	if cfg.file != "" {
		return os.ReadFile(cfg.file)
	}
	return generatePDF(cfg.size), nil
}

// benchBody builds the multipart body sent by every request.
func benchBody(cfg benchConfig, doc []byte) ([]byte, string, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := range cfg.docs {
		mw.WriteField(fmt.Sprintf("documentPairs[%d].referenceNumber", i), fmt.Sprintf("bench-%d", i))
		w, err := mw.CreateFormFile(fmt.Sprintf("documentPairs[%d].document", i), "bench.pdf")
		if err != nil {
			return nil, "", err
		}
		w.Write(doc)
	}
	mw.WriteField("clientInfo", cfg.clientInfo)
	if cfg.rect != "" {
		parts, _ := parseRect(cfg.rect)
		for i, name := range []string{"x1", "y1", "x2", "y2"} {
			mw.WriteField(name, parts[i])
		}
	}
	mw.WriteField("signaturePage", strconv.Itoa(cfg.page))
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), mw.FormDataContentType(), nil
}

// generatePDF returns a valid one-page PDF (ISO 32000-1 §7.5) of about size
// bytes: a line of text, then a content stream padded with comment lines.
func generatePDF(size int64) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	text := "BT /F1 24 Tf 72 700 Td (Sello benchmark document) Tj ET\n"
	var content strings.Builder
	content.WriteString(text)
	// Pad with comment lines (ISO 32000-1 §7.2.3) up to the wanted size,
	// leaving room for the other objects and the cross-reference table.
	line := "% " + strings.Repeat("x", 77) + "\n"
	for int64(b.Len()+content.Len()+len(line)+400) < size {
		content.WriteString(line)
	}
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// processRSS reads the peak (VmHWM) and current (VmRSS) resident set size
// of a process from /proc/PID/status, in bytes.
func processRSS(pid int) (peak, current int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read server memory: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read server memory: %s: %w", name, err)
		}
		if name == "VmHWM" {
			peak = kb << 10
		} else {
			current = kb << 10
		}
	}
	if peak == 0 {
		return 0, 0, fmt.Errorf("read server memory: no VmHWM in /proc/%d/status", pid)
	}
	return peak, current, nil
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat; it is 100
// on every Linux architecture Go supports.
const clockTicks = 100

// processCPU returns the CPU time, user plus system, that a process has
// used, from /proc/PID/stat (proc(5): fields 14 and 15).
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	// The command name (field 2) may hold spaces; fields count from the
	// closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("read server CPU time: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	return float64(utime+stime) / clockTicks, nil
}

func printBench(w io.Writer, cfg benchConfig, r *benchResult) {
	fmt.Fprintf(w, "document:     %d bytes, %d per request, %d concurrent clients, %s\n",
		r.DocumentBytes, cfg.docs, cfg.concurrency, time.Duration(r.Seconds*float64(time.Second)).Round(time.Millisecond))
	fmt.Fprintf(w, "requests:     %d\n", r.Requests)
	fmt.Fprintf(w, "signed:       %d documents, %.1f documents/s\n", r.Documents, r.DocumentsPerSec)
	fmt.Fprintf(w, "latency:      p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.P50ms, r.P90ms, r.P99ms, r.Maxms)
	fmt.Fprintf(w, "errors:       %d", r.Errors)
	if len(r.ErrorKinds) > 0 {
		var kinds []string
		for k, n := range r.ErrorKinds {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
		}
		slices.Sort(kinds)
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
	if r.ServerPeakRSS > 0 {
		fmt.Fprintf(w, "server RSS:   peak %.1f MiB (VmHWM), now %.1f MiB\n", float64(r.ServerPeakRSS)/(1<<20), float64(r.ServerRSS)/(1<<20))
		fmt.Fprintf(w, "server CPU:   %.2f s", r.ServerCPUSeconds)
		if r.Documents > 0 {
			fmt.Fprintf(w, ", %.2f ms per signed document", r.ServerCPUSeconds*1000/float64(r.Documents))
		}
		fmt.Fprintln(w)
	}
}
