package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"sello/internal/pades"
)

// verifyResult is the JSON form of one signature in `sello verify --json`.
type verifyResult struct {
	Field     string    `json:"field"`
	SubFilter string    `json:"subFilter"`
	Signer    string    `json:"signer,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	Serial    string    `json:"serialNumber,omitempty"`
	Time      time.Time `json:"signingTime,omitzero"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	Name      string    `json:"name,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Location  string    `json:"location,omitempty"`
	ByteRange [4]int64  `json:"byteRange"`
	WholeFile bool      `json:"coversWholeFile"`
	Revision  int       `json:"revision"`
	Revisions int       `json:"revisions"`
	Intact    bool      `json:"intact"`
	Problem   string    `json:"problem,omitempty"`
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the signatures as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sello verify [--json] FILE\n\nLists every signature of FILE and checks its integrity (byte range, digest,\nsignature value). Exits 0 only when the file has signatures and all are intact.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	path := pos[0]
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "sello verify: %v\n", err)
		return 1
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintf(stderr, "sello verify: %v\n", err)
		return 1
	}
	sigs, err := pades.Verify(f, st.Size())
	if err != nil {
		fmt.Fprintf(stderr, "sello verify: %s: %v\n", path, err)
		return 1
	}
	results := make([]verifyResult, len(sigs))
	intact := len(sigs) > 0
	for i, s := range sigs {
		r := verifyResult{
			Field: s.Field, SubFilter: s.SubFilter, Time: s.Time, Timestamp: s.Timestamped, Name: s.Name, Reason: s.Reason,
			Location: s.Location, ByteRange: s.ByteRange, WholeFile: s.WholeFile,
			Revision: s.Revision, Revisions: s.Revisions, Intact: s.Err == nil,
		}
		if s.Signer != nil {
			r.Signer = s.Signer.Subject.String()
			r.Issuer = s.Signer.Issuer.String()
			r.Serial = s.Signer.SerialNumber.Text(16)
		}
		if s.Err != nil {
			r.Problem = s.Err.Error()
			intact = false
		}
		results[i] = r
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			File       string         `json:"file"`
			Intact     bool           `json:"intact"`
			Signatures []verifyResult `json:"signatures"`
		}{path, intact, results})
	} else {
		printVerify(stdout, path, results)
	}
	if !intact {
		return 1
	}
	return 0
}

func printVerify(w io.Writer, path string, results []verifyResult) {
	if len(results) == 0 {
		fmt.Fprintf(w, "%s: no signatures\n", path)
		return
	}
	fmt.Fprintf(w, "%s: %d signature(s)\n", path, len(results))
	for _, r := range results {
		status := "intact"
		if !r.Intact {
			status = "NOT INTACT"
		}
		fmt.Fprintf(w, "\n%s: %s\n", r.Field, status)
		if r.Signer != "" {
			fmt.Fprintf(w, "  signer:     %s\n", r.Signer)
			fmt.Fprintf(w, "  issuer:     %s\n", r.Issuer)
		}
		if !r.Time.IsZero() {
			fmt.Fprintf(w, "  signed at:  %s\n", r.Time.Format("2006-01-02 15:04:05 -07:00"))
		}
		if !r.Timestamp.IsZero() {
			fmt.Fprintf(w, "  time-stamp: %s (RFC 3161 token over the signature)\n", r.Timestamp.Format("2006-01-02 15:04:05 -07:00"))
		}
		if r.Name != "" {
			fmt.Fprintf(w, "  name:       %s\n", r.Name)
		}
		if r.Reason != "" {
			fmt.Fprintf(w, "  reason:     %s\n", r.Reason)
		}
		if r.Location != "" {
			fmt.Fprintf(w, "  location:   %s\n", r.Location)
		}
		fmt.Fprintf(w, "  format:     %s\n", r.SubFilter)
		if r.WholeFile {
			fmt.Fprintf(w, "  covers:     the whole file (revision %d of %d)\n", r.Revision, r.Revisions)
		} else {
			fmt.Fprintf(w, "  covers:     revision %d of %d (bytes 0-%d); later changes were appended\n", r.Revision, r.Revisions, r.ByteRange[2]+r.ByteRange[3])
		}
		if r.Intact {
			fmt.Fprintln(w, "  digest:     ok\n  signature:  ok")
		} else {
			fmt.Fprintf(w, "  problem:    %s\n", r.Problem)
		}
	}
}
