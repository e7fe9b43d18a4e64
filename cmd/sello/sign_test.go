package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sello/internal/corpus"
	"sello/internal/tsa/tsatest"
)

// mustRun runs "sello args..." in-process and fails the test unless the exit
// code is want.
func mustRun(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runCmd(t, args...)
	if code != want {
		t.Fatalf("sello %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	dir := corpus.Dir(t)
	tmp := t.TempDir()
	dd := "--data-dir=" + filepath.Join(tmp, "data")
	out := filepath.Join(tmp, "signed.pdf")

	stdout, _ := mustRun(t, 0, "sign", dd, "--in", filepath.Join(dir, "s01-google-docs.pdf"), "--out", out,
		"--page", "0", "--rect", "300,300,500,150", "--name", "José Núñez", "--id", "CC 1020304050",
		"--reason", "Contrato", "--location", "São Paulo", "--json")
	var res signResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Status != "signed" || res.SHA256 == "" {
		t.Fatalf("sign --json printed %q (%v)", stdout, err)
	}

	stdout, _ = mustRun(t, 0, "verify", out)
	for _, want := range []string{"Signature1: intact", "CN=José Núñez", "the whole file", "signature:  ok"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}

	// Signing the signed file again keeps the first signature intact; it
	// then covers an earlier revision.
	out2 := filepath.Join(tmp, "signed2.pdf")
	mustRun(t, 0, "sign", dd, "--in", out, "--out", out2, "--page", "-1", "--rect", "50,50,250,120", "--name", "Ana Müller", "--id", "CC 42")
	stdout, _ = mustRun(t, 0, "verify", "--json", out2)
	var v struct {
		Intact     bool
		Signatures []verifyResult
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Intact || len(v.Signatures) != 2 || v.Signatures[0].WholeFile || !v.Signatures[1].WholeFile {
		t.Errorf("verify --json = %s, want two intact signatures, the second covering the whole file", stdout)
	}

	// With a time-stamping authority the signature is B-T, and verify says
	// when the token was made.
	stamped := filepath.Join(tmp, "stamped.pdf")
	srv := tsatest.NewServer(t, tsatest.Options{})
	mustRun(t, 0, "sign", dd, "--in", filepath.Join(dir, "s07-pdf20-simple.pdf"), "--out", stamped,
		"--name", "Ana Müller", "--id", "CC 42", "--tsa", srv.URL)
	if stdout, _ = mustRun(t, 0, "verify", stamped); !strings.Contains(stdout, "time-stamp: ") {
		t.Errorf("verify of a B-T signature does not show its time-stamp:\n%s", stdout)
	}

	// An unsigned file is not "verified".
	_, _ = mustRun(t, 1, "verify", filepath.Join(dir, "s01-google-docs.pdf"))
}

// TestSignRefusal checks that a document that cannot be signed gives a
// one-line reason, a non-zero exit and no output file.
func TestSignRefusal(t *testing.T) {
	t.Parallel()
	dir := corpus.Dir(t)
	tmp := t.TempDir()
	dd := "--data-dir=" + filepath.Join(tmp, "data")
	for _, tc := range []struct {
		file, want string
	}{
		{"s25-truncated.pdf", "truncated"},
		{"s12-certified-docmdp-p1.pdf", "certified"},
		{"s23-aes256-userpw.pdf", "encrypted"},
		{"s08-pdf20-offset-start.pdf", "%PDF-"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := filepath.Join(tmp, tc.file)
			_, stderr := mustRun(t, 1, "sign", dd, "--in", filepath.Join(dir, tc.file), "--out", out, "--name", "X", "--id", "CC 1")
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(strings.ToLower(stderr), strings.ToLower(tc.want)) {
				t.Errorf("stderr = %q, want one line mentioning %q", stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output file exists after a refusal (stat: %v)", err)
			}
			if m, _ := filepath.Glob(filepath.Join(tmp, "."+tc.file+"*")); len(m) > 0 {
				t.Errorf("temporary files left behind: %v", m)
			}
		})
	}
}

func TestSignMany(t *testing.T) {
	t.Parallel()
	dir := corpus.Dir(t)
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in")
	os.Mkdir(in, 0o755)
	for _, f := range []string{"s01-google-docs.pdf", "s07-pdf20-simple.pdf", "s25-truncated.pdf"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(in, f), b, 0o644)
	}
	outDir := filepath.Join(tmp, "out")
	stdout, stderr := mustRun(t, 1, "sign", "--data-dir="+filepath.Join(tmp, "data"), "--in", filepath.Join(in, "*.pdf"),
		"--out-dir", outDir, "--name", "José Núñez", "--id", "CC 1020304050")
	if !strings.Contains(stderr, "2 signed, 1 failed") || !strings.Contains(stderr, "FAIL ") || strings.Count(stdout, "ok ") != 2 {
		t.Errorf("stdout:\n%s\nstderr:\n%s\nwant two ok lines, one FAIL line and the summary", stdout, stderr)
	}
	got, _ := filepath.Glob(filepath.Join(outDir, "*.pdf"))
	if len(got) != 2 {
		t.Errorf("out-dir holds %v, want the two signed files", got)
	}
}

func TestSignUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sign"},
		{"sign", "--in", "a.pdf"},
		{"sign", "--in", "a.pdf", "--out", "b.pdf", "--rect", "1,2,3"},
		{"sign", "--in", "a.pdf", "--out", "b.pdf", "--hash", "md5"},
		{"verify"},
		{"sign", "--in", "a.pdf", "--out", "b.pdf", "--data-dir", "x", "--name", "Only Name"},
	} {
		mustRun(t, 2, args...)
	}
}

// TestSignFont signs a name Go Regular cannot show with a configured font,
// and checks the stamp with the independent verifier and pdftotext.
func TestSignFont(t *testing.T) {
	t.Parallel()
	const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	if _, err := os.Stat(font); err != nil {
		corpus.Require(t, "fonts", "DejaVu Sans: "+err.Error()+" (install fonts-dejavu-core)")
	}
	verifier := corpus.Verifier(t)
	orig := filepath.Join(corpus.Dir(t), "s01-google-docs.pdf")
	tmp := t.TempDir()
	dd := "--data-dir=" + filepath.Join(tmp, "data")
	out := filepath.Join(tmp, "signed.pdf")
	const name = "Nguyễn Thị Hương"
	mustRun(t, 0, "sign", dd, "--font", font, "--in", orig, "--out", out,
		"--page", "0", "--rect", "300,300,500,150", "--name", name, "--id", "CC 1020304050")
	if report, err := exec.Command(verifier, orig, out, "--page", "0", "--rect", "300,300,500,150").CombinedOutput(); err != nil {
		t.Fatalf("verify-signed.sh: %v\n%s", err, report)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", "1", "-l", "1", out, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// The name may wrap: compare with runs of white space as one space.
	if !strings.Contains(strings.Join(strings.Fields(string(text)), " "), "Digitally signed by "+name) {
		t.Errorf("the stamp does not read %q:\n%s", "Digitally signed by "+name, text)
	}

	_, stderr := mustRun(t, 2, "sign", dd, "--font", orig, "--in", orig, "--out", filepath.Join(tmp, "x.pdf"), "--name", name, "--id", "CC 1")
	if !strings.Contains(stderr, "--font") {
		t.Errorf("a PDF given as --font: stderr %q, want it to name --font", stderr)
	}
}
