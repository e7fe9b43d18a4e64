package main

import (
	"fmt"
	"io"
)

func runTransactions(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello transactions: not implemented yet")
	return 1
}
