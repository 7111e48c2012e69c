package main

import (
	"fmt"
	"strings"
)

// script is one script of the fixed set whose per-event cost is compared.
type script struct {
	// Name is the table's name for it.
	Name string
	// Text is the script. Probes fire on the workload's system calls (or on
	// a timer), so that waitAttached sees every program run.
	Text string
	// Progs is how many BPF programs it attaches: the tracer is attached
	// when that many have run.
	Progs int
	// Note, if set, is a footnote in the table.
	Note string
}

// floodFormat is the printf flood's line: events are the output lines that
// start with "E ".
const floodFormat = `E %d %d\n`

// floodScript prints one line for every system call of the workload.
const floodScript = `tracepoint:raw_syscalls:sys_enter /comm == "` + workloadComm + `"/ { printf("` + floodFormat + `", tid, args->id); }`

// perEventScripts is the fixed set of issue 7, all on raw_syscalls
// tracepoints so that they run on any kernel with ftrace syscalls.
func perEventScripts() []script {
	return []script{
		{Name: "`@ = count()`", Progs: 1,
			Text: `tracepoint:raw_syscalls:sys_enter { @ = count(); }`},
		{Name: "`@[comm] = count()`", Progs: 1,
			Text: `tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }`},
		{Name: "`@[pid, args->id] = count()`", Progs: 1,
			Text: `tracepoint:raw_syscalls:sys_enter { @[pid, args->id] = count(); }`},
		{Name: "`comm ==` predicate, `hist(nsecs & 0xfffff)`", Progs: 1,
			Text: `tracepoint:raw_syscalls:sys_enter /comm == "` + workloadComm + `"/ { @ = hist(nsecs & 0xfffff); }`},
		{Name: "enter/exit latency by tid, hist, `delete`, stats and max by comm", Progs: 2,
			Text: `tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; }
tracepoint:raw_syscalls:sys_exit /@start[tid]/ {
	$d = nsecs - @start[tid];
	@lat = hist($d);
	@s[comm] = stats($d);
	@m[comm] = max($d);
	delete(@start[tid]);
}`},
		{Name: "printf flood", Progs: 1, Text: floodScript},
		{Name: "`profile:hz:999`, `@[kstack] = count()`", Progs: 1,
			Text: `profile:hz:999 { @[kstack] = count(); }`},
	}
}

// helloScript is the start-up script: it exits in BEGIN.
const helloScript = `BEGIN { exit(); }`

// tenProbeScript has 10 probes; start-up to attached is measured on it.
func tenProbeScript() string {
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, "tracepoint:raw_syscalls:sys_enter { @enter%d = count(); }\n", i)
		fmt.Fprintf(&b, "tracepoint:raw_syscalls:sys_exit { @exit%d = count(); }\n", i)
	}
	return b.String()
}

// largeScript generates a script of exactly lines lines: probes of about
// perProbe lines each (a header, statements, a closing brace). Every
// statement tests the system call number and counts into one map, so that
// the script is all code and no maps: what it measures is the compiler.
func largeScript(lines, perProbe int) string {
	probes := max((lines+perProbe-1)/perProbe, 1)
	stmts := max(lines-2*probes, 0)
	var b strings.Builder
	n := 0
	for p := range probes {
		b.WriteString("tracepoint:raw_syscalls:sys_enter {\n")
		// Spread the statements evenly, the first probes taking the rest.
		k := stmts / probes
		if p < stmts%probes {
			k++
		}
		for range k {
			fmt.Fprintf(&b, "\tif (args->id == %d) { @c[%d] = count(); }\n", n, n%64)
			n++
		}
		b.WriteString("}\n")
	}
	return b.String()
}
