package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSignServer answers /token and /sign-documents like the service: every
// fifth request is a 503, and documents whose referenceNumber is "bench-1"
// fail.
func fakeSignServer(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			if r.FormValue("client_secret") != "s3cret" {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"Invalid credentials."}`)
				return
			}
			io.WriteString(w, `{"access_token":"tok","token_type":"Bearer","expires_in":3600}`)
		case "/sign-documents":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("x-account-id") != "acc" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if n.Add(1)%5 == 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			mr := multipart.NewReader(r.Body, params["boundary"])
			var results []string
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				if strings.HasSuffix(p.FormName(), ".referenceNumber") {
					status := "SUCCESS"
					if string(b) == "bench-1" {
						status = "FAIL"
					}
					results = append(results, fmt.Sprintf(`{"referenceNumber":%q,"status":%q}`, b, status))
				}
			}
			fmt.Fprintf(w, `{"signedDocuments":[%s]}`, strings.Join(results, ","))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBench(t *testing.T) {
	t.Parallel()
	srv := fakeSignServer(t)
	tests := []struct {
		name      string
		docs      string
		wantFails bool
	}{
		{"one document", "1", false},
		{"two documents, one failing", "2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run([]string{"bench", "--url", srv.URL, "--client-id", "c", "--client-secret", "s3cret",
				"--account", "acc", "--project", "p", "--client-info", "tx", "--size", "2048",
				"--docs", tt.docs, "--concurrency", "4", "--duration", "200ms",
				"--server-pid", fmt.Sprint(os.Getpid()), "--json"}, &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit %d, want 1 (the fake server answers some 503s); stderr %s", code, stderr.String())
			}
			var res benchResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("%v in %s", err, stdout.String())
			}
			if res.Requests == 0 || res.Documents == 0 || res.DocumentsPerSec <= 0 {
				t.Errorf("result %+v: no documents signed", res)
			}
			if res.ErrorKinds["http 503"] == 0 {
				t.Errorf("error kinds %v, want 503s counted", res.ErrorKinds)
			}
			if got := res.ErrorKinds["FAIL"] > 0; got != tt.wantFails {
				t.Errorf("FAIL documents counted = %v, want %v (%v)", got, tt.wantFails, res.ErrorKinds)
			}
			if !(res.P50ms <= res.P90ms && res.P90ms <= res.P99ms && res.P99ms <= res.Maxms) {
				t.Errorf("percentiles out of order: %+v", res)
			}
			if res.ServerCPUSeconds < 0 {
				t.Errorf("server CPU %v s", res.ServerCPUSeconds)
			}
			if res.ServerPeakRSS <= 0 || res.ServerRSS <= 0 || res.ServerRSS > res.ServerPeakRSS {
				t.Errorf("server RSS peak %d, now %d", res.ServerPeakRSS, res.ServerRSS)
			}
		})
	}
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()
	base := []string{"bench", "--token", "t", "--account", "a", "--project", "p", "--client-info", "tx"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"remote host", append(base, "--url", "http://192.0.2.1:8080"), "only a server on this machine"},
		{"no credentials", []string{"bench", "--account", "a", "--project", "p", "--client-info", "tx"}, "give --token"},
		{"too long", append(base, "--duration", "2h"), "--duration 2h0m0s"},
		{"bad rect", append(base, "--rect", "1,2,3"), "want x1,y1,x2,y2"},
		{"tiny size", append(base, "--size", "10"), "--size 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestGeneratePDF(t *testing.T) {
	t.Parallel()
	for _, size := range []int64{1 << 10, 100 << 10, 5 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			b := generatePDF(size)
			if d := int64(len(b)) - size; d < -200 || d > 200 {
				t.Errorf("generatePDF(%d) made %d bytes", size, len(b))
			}
			qpdf, err := exec.LookPath("qpdf")
			if err != nil {
				t.Skip("qpdf not installed")
			}
			path := filepath.Join(t.TempDir(), "gen.pdf")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}}
	for _, tt := range tests {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("percentile(1..100 ms, %d) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}

func TestProcessCPU(t *testing.T) {
	t.Parallel()
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn some CPU so the counter moves.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before || after == 0 {
		t.Errorf("CPU time went from %v to %v", before, after)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1) = nil error")
	}
}
