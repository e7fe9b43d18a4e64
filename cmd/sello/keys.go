package main

import (
	"fmt"
	"io"
)

func runKeys(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello keys: not implemented yet")
	return 1
}
