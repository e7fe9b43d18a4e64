package main

import (
	"fmt"
	"io"
)

func runVerify(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello verify: not implemented yet")
	return 1
}
