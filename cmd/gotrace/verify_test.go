package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// twoProbes is a script with two programs, one of them attached.
const twoProbes = `BEGIN { printf("begin\n"); } tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }`

// TestDryRunAndVerify checks --dry-run (load, attach, detach, exit 0,
// print nothing; BEGIN does not run) and --verify (load only).
func TestDryRunAndVerify(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:       "dry run",
			args:       []string{"--dry-run", "-e", twoProbes},
			needKernel: true,
		},
		{
			name:       "verify",
			args:       []string{"--verify", "-e", twoProbes},
			stderr:     "Verified 2 programs\n",
			needKernel: true,
		},
		{
			name:       "verify quiet",
			args:       []string{"--verify", "-q", "-e", twoProbes},
			needKernel: true,
		},
		{
			// Identical programs are loaded, and counted, once.
			name:       "verify wildcard",
			args:       []string{"--verify", "-e", `tracepoint:syscalls:sys_enter_getpp*,tracepoint:syscalls:sys_enter_getpid { @ = count(); }`},
			stderr:     "Verified 1 program\n",
			needKernel: true,
		},
		{
			name:   "both",
			args:   []string{"--verify", "--dry-run", "-e", hello},
			stderr: "gotrace: --dry-run and --verify cannot be used together\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
	kerneltest.Require(t)
	// A probe that cannot be attached (a sampling rate beyond the
	// kernel's limit) makes the dry run fail; the error's end depends on
	// the kernel.
	r := gotrace(t, "", "--dry-run", "-e", `BEGIN { } profile:hz:2000000000 { @ = count(); }`)
	if r.status != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "gotrace: error: attaching profile:hz:2000000000: ") {
		t.Errorf("dry run with a failing attach: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
}

// programStats matches -v's paragraph for one program.
func programStats(name, probes string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^program ` + regexp.QuoteMeta(name) + ` for ` + regexp.QuoteMeta(probes) +
		`: \d+ instructions, \d+ bytes translated(, \d+ bytes JITed)?\n` +
		`(  verifier: .*\n)*  verifier: processed \d+ insns \(limit \d+\)`)
}

// TestVerbose checks -v: every program's size and verifier statistics, on
// stderr, with a run and with --verify.
func TestVerbose(t *testing.T) {
	kerneltest.Require(t)
	script := `BEGIN { exit(); } tracepoint:syscalls:sys_enter_getppid,tracepoint:syscalls:sys_enter_getpid { @ = count(); }`
	for _, args := range [][]string{{"-v", "-e", script}, {"-v", "--verify", "-e", script}} {
		r := gotrace(t, "", args...)
		if r.status != 0 {
			t.Fatalf("%q: status %d, stderr %q", args, r.status, r.stderr)
		}
		for _, re := range []*regexp.Regexp{
			programStats("BEGIN_0", "BEGIN"),
			programStats("tracepoint_1", "tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_getpid"),
		} {
			if !re.MatchString(r.stderr) {
				t.Errorf("%q: stderr lacks %v:\n%s", args, re, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "verification time") {
			t.Errorf("%q: no verification time:\n%s", args, r.stderr)
		}
	}
}

// TestDumpVerifier checks -d verifier: each program's verifier log, and
// no run.
func TestDumpVerifier(t *testing.T) {
	kerneltest.Require(t)
	r := gotrace(t, "", "-d", "verifier", "-e", `BEGIN { @x = 1; printf("not run\n"); exit(); }`)
	if r.status != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "; verifier log of program BEGIN_0 for BEGIN\n") ||
		!regexp.MustCompile(`(?m)^processed \d+ insns`).MatchString(r.stdout) || strings.Contains(r.stdout, "not run\n") {
		t.Errorf("status %d, stderr %q, stdout:\n%s", r.status, r.stderr, r.stdout)
	}
	// Several stages, in order.
	r = gotrace(t, "", "-d", "ast,verifier", "-e", `BEGIN { exit(); }`)
	if r.status != 0 || !strings.HasPrefix(r.stdout, "(program ") || !strings.Contains(r.stdout, "\n; verifier log of program BEGIN_0") {
		t.Errorf("-d ast,verifier: status %d, stderr %q, stdout:\n%s", r.status, r.stderr, r.stdout)
	}
	runCases(t, []cliCase{{
		name:   "unknown stage",
		args:   []string{"-dnope", "-e", hello},
		stderr: "gotrace: -d: unknown stage \"nope\" (valid: ast, codegen, verifier, all)\n\n" + readTestdata(t, "usage.txt"),
		status: 2,
	}})
}

// TestInfo checks that --info reports what this kernel has: tracepoints
// work here, kprobes do not always.
func TestInfo(t *testing.T) {
	kerneltest.Require(t)
	r := gotrace(t, "", "--info")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	for _, want := range []string{"Kernel\n  release: ", "\n  BTF: ", "\nProbe kinds\n", "\n  tracepoint: yes\n", "\n  hardware: ", "\n  kprobe, kretprobe: ",
		"\nProgram types\n", "\nMap types\n", "\n  ringbuf: yes\n", "\nHelpers (in tracepoint programs)\n", "\n  probe_read_kernel_str: yes\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--info lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestNothingLeftLoaded checks that --dry-run, --verify, -d verifier and a
// dry run with -c unload every program and map they loaded. The script's
// map has a name unique to this test, by which the test finds the
// objects in the kernel.
func TestNothingLeftLoaded(t *testing.T) {
	kerneltest.Require(t)
	marker := fmt.Sprintf("left%08x", rand.Uint32())
	mapName := "gt_" + marker
	script := fmt.Sprintf(`BEGIN { @%[1]s = count(); } tracepoint:syscalls:sys_enter_getppid { @%[1]s = count(); } END { @%[1]s = count(); }`, marker)
	for _, args := range [][]string{
		{"--dry-run", "-e", script},
		{"--verify", "-q", "-e", script},
		{"-d", "verifier", "-e", script},
		{"--dry-run", "-c", "/bin/true", "-e", script},
	} {
		r := gotrace(t, "", args...)
		if r.status != 0 {
			t.Fatalf("%q: status %d, stderr %q", args, r.status, r.stderr)
		}
		waitUnloaded(t, fmt.Sprintf("after %q, programs using map %s", args[:len(args)-2], mapName),
			func() bpfObjects { return markedObjects(t, mapName) })
	}
}
