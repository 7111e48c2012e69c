package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gotrace/gotrace/runtime"
)

// listProbes prints the probes matching pattern, one per line; verbose
// adds their arguments, one per line, indented by four spaces (bpftrace's
// -lv layout).
func listProbes(pattern string, verbose bool, stdout, stderr io.Writer) int {
	var probes []runtime.ListedProbe
	var err error
	if verbose {
		probes, err = runtime.ListProbesVerbose(pattern)
	} else {
		var names []string
		names, err = runtime.ListProbes(pattern)
		for _, n := range names {
			probes = append(probes, runtime.ListedProbe{Name: n})
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gotrace: error: %v\n", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	for _, p := range probes {
		fmt.Fprintln(w, p.Name)
		for _, a := range p.Args {
			fmt.Fprintln(w, "    "+a)
		}
	}
	return 0
}
