package main

import (
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"sello/internal/ca"
)

// caDir is where the development CA lives inside the data directory.
func caDir(dataDir string) string { return filepath.Join(dataDir, "ca") }

func runCA(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sello ca export [--data-dir DIR]\n\nPrints the service CA certificate (PEM) for relying parties; the CA is created\nin the data directory on first use.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || pos[0] != "export" {
		fs.Usage()
		return 2
	}
	authority, err := ca.LoadOrCreate(caDir(*dataDir), ca.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "sello ca: %v\n", err)
		return 1
	}
	pem.Encode(stdout, &pem.Block{Type: "CERTIFICATE", Bytes: authority.Certificate().Raw})
	return 0
}
