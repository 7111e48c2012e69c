// Package format decides how values look when gotrace prints them, byte
// for byte as bpftrace prints them: printf formats (parsed when a script is
// checked, rendered when an event arrives) and maps (printed by print(@m)
// and at the end of a run).
//
// # Sources
//
// bpftrace's documentation (docs/stdlib.md and the man page) is the
// specification; the installed bpftrace 0.17.0 is the oracle whose output
// the tests compare against (testdata/format holds the scripts and their
// captured stdout). Where bpftrace changed its output after 0.17 the
// default follows the newest release (0.26.1 at the time of writing);
// Style lists every such difference and Style017 keeps the 0.17 layout.
// The stats() layout is the main one: "count 2, average 7, total 15" up to
// 0.23, "{ .count = 2, .average = 7, .total = 15 }" from 0.24.
//
// # Framing of a run's stdout
//
// bpftrace 0.17 writes these bytes to stdout (od -c) for
//
//	bpftrace -e 'BEGIN { printf("hi\n"); exit(); }'
//
//	0000000   A   t   t   a   c   h   i   n   g       1       p   r   o   b
//	0000020   e   .   .   .  \n   h   i  \n  \n  \n
//
// and for
//
//	bpftrace -e 'BEGIN { @a = count(); exit(); }'
//
//	0000000   A   t   t   a   c   h   i   n   g       1       p   r   o   b
//	0000020   e   .   .   .  \n  \n  \n   @   a   :       1  \n
//
// That is: "Attaching N probe...\n" ("probes..." when N != 1) once the
// probes are attached; then the probes' output (printf, print, END
// probes); then EndOfRun, "\n\n", always, whether the run ended by exit()
// or Ctrl-C and whether or not maps follow; then the map dump, which is
// WriteMaps: every map in name order, each exactly as print(@m) prints it,
// with no separator between maps other than the blank lines that some map
// layouts end with. A scalar count() map never incremented still prints
// "@x: 0" in 0.17, and an empty map prints a blank line (two for avg and
// stats) in 0.17 and nothing in the latest release.
//
// bpftrace 0.24 and later write "Attached N probe(s)" to stderr instead,
// so their stdout for the two programs is "hi\n\n\n" and "\n\n@a: 1\n".
//
// # Maps
//
// The runtime reads each map from the kernel, merges per-CPU values and
// fills a Map; WriteMap, PrintMap and WriteMaps (or the Style methods of
// the same names) print it. Sorting, the key syntax, the histogram layout
// and the effect of print()'s top and div are described on Style.PrintMap,
// FormatKey, Entry and Style.
package format
