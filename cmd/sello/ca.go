package main

import (
	"fmt"
	"io"
)

func runCA(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello ca: not implemented yet")
	return 1
}
