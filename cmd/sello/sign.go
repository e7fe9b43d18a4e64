package main

import (
	"fmt"
	"io"
)

func runSign(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sello sign: not implemented yet")
	return 1
}
