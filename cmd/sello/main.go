// Command sello signs PDF documents with PAdES signatures, locally (sign,
// verify) or as an HTTP service (serve), and administers the service's API
// clients, identity-validation transactions and keys.
package main

import (
	"fmt"
	"io"
	"os"
)

// command is one subcommand: run gets the arguments after the subcommand's
// name and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP signing service", runServe},
		{"sign", "sign PDF files on this machine", runSign},
		{"verify", "list and check the signatures of a PDF file", runVerify},
		{"clients", "manage API clients (create, list, disable, enable, rotate-secret)", runClients},
		{"keys", "manage the token-signing keys (rotate, list)", runKeys},
		{"transactions", "manage identity-validation transactions", runTransactions},
		{"ca", "the service certificate authority (export)", runCA},
		{"audit", "read the audit log", runAudit},
		{"bench", "drive a running server on this machine with signing requests", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sello: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sello <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sello <command> -h' for the flags of a command.")
}
