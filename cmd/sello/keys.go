package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"sello/internal/auth"
)

const keysUsage = `Usage: sello keys <command> [flags]

Commands:
  rotate   add a new token-signing key; it signs every new token, and tokens
           signed by earlier keys stay valid until they expire
  list     list the token-signing keys, newest last

Every command takes --data-dir (env SELLO_DATA_DIR, default ./sello-data) and
--json for machine-readable output.
`

// keyJSON is a token-signing key as the --json output shows it.
type keyJSON struct {
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
}

func runKeys(args []string, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand(args, keysUsage, stderr)
	if !ok {
		return code
	}
	if sub != "rotate" && sub != "list" {
		fmt.Fprintf(stderr, "sello keys: unknown command %q\n\n%s", sub, keysUsage)
		return 2
	}
	fs := flag.NewFlagSet("sello keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print machine-readable JSON")
	if _, code, ok := parseOperands(fs, args, 0, "", stderr); !ok {
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := keysCommand(ctx, sub, *dataDir, *asJSON, stdout); err != nil {
		fmt.Fprintf(stderr, "sello keys %s: %v\n", sub, err)
		return 1
	}
	return 0
}

func keysCommand(ctx context.Context, sub, dataDir string, asJSON bool, stdout io.Writer) error {
	db, err := openStore(ctx, "", dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	opts := auth.AdminOptions{Clients: db, Keys: db}
	if sub == "rotate" {
		if opts.MasterKey, err = masterKey(ctx, db, dataDir); err != nil {
			return err
		}
	}
	admin, err := auth.NewAdmin(opts)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if sub == "rotate" {
		k, err := admin.RotateKey(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return enc.Encode(keyJSON{KeyID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt})
		}
		_, err = fmt.Fprintf(stdout, "Added token-signing key %s (%s).\n"+
			"Running servers sign with it within a minute; earlier tokens stay valid until they expire.\n",
			k.ID, k.Algorithm)
		return err
	}
	ks, err := admin.ListKeys(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]keyJSON, 0, len(ks))
		for _, k := range ks {
			out = append(out, keyJSON{KeyID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt})
		}
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED")
	for _, k := range ks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
