package main

import (
	"fmt"
	"io"
)

func runAudit(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello audit: not implemented yet")
	return 1
}
