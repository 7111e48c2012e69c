package main

import (
	"fmt"
	"io"

	"github.com/gotrace/gotrace/runtime"
)

// listProbes prints the probes matching pattern, one per line.
func listProbes(pattern string, stdout, stderr io.Writer) int {
	names, err := runtime.ListProbes(pattern)
	if err != nil {
		fmt.Fprintf(stderr, "gotrace: error: %v\n", err)
		return 1
	}
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return 0
}
