package main

import (
	"fmt"
	"io"
)

func runClients(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello clients: not implemented yet")
	return 1
}
