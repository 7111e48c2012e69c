package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/userbin"
)

// usdtTargetSource is a program with USDT probes (SystemTap's
// <sys/sdt.h>), every one with a semaphore. Built with -O2, its
// arguments are registers, stack slots and a global variable
// (rip-relative), and step() is inlined twice, so each probe is at two
// places. Without arguments it takes two steps; with "wait", one per line
// of stdin, each answered with the value of app:tick's semaphore, which
// is not 0 while the probe is attached.
const usdtTargetSource = `
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

#define SEMAPHORE(p, n) unsigned short p##_##n##_semaphore __attribute__((unused, section(".probes")))
SEMAPHORE(app, loop);
SEMAPHORE(app, neg);
SEMAPHORE(app, item);
SEMAPHORE(app, tick);
SEMAPHORE(other, loop);

int global_count = 77;
struct item { int id; long weight; const char *label; };
static volatile char sink;

/* A probe cannot fault a page in: the strings are read once first. */
static void __attribute__((noinline)) touch(const char *s) { while (*s) sink = *s++; }

static inline __attribute__((always_inline)) void step(int i) {
	const char *msg = "hello usdt";
	volatile int local = -5;
	struct item it = { 9, 123456789012L, "widget" };
	touch(msg);
	touch(it.label);
	DTRACE_PROBE3(app, loop, i, msg, (long)i * 1000);
	DTRACE_PROBE2(app, neg, local, global_count);
	DTRACE_PROBE4(app, item, it.id, it.weight, it.label, &it);
	DTRACE_PROBE(other, loop);
	if (app_tick_semaphore)
		DTRACE_PROBE1(app, tick, i);
	printf("%d\n", app_tick_semaphore);
	fflush(stdout);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		char line[64];
		while (fgets(line, sizeof line, stdin))
			step(atoi(line));
		return 0;
	}
	for (int i = 0; i < 2; i++)
		step(i);
	return 0;
}
`

func buildUSDTTarget(t *testing.T) string {
	t.Helper()
	return kerneltest.CompileC(t, t.TempDir(), "usdttarget", usdtTargetSource, "-O2")
}

// USDT arguments are decoded from the probes' notes: registers, memory
// relative to registers and a global variable, signed or not, of every
// size; a probe at several places fires at the one that runs.
func TestUSDTArguments(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUSDTTarget(t)
	b, err := userbin.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[userbin.ArgKind]bool{}
	sites := map[string]int{}
	for _, n := range b.Notes() {
		sites[n.Provider+":"+n.Name]++
		for _, a := range n.Args {
			kinds[a.Kind] = true
		}
	}
	if !kinds[userbin.ArgReg] || !kinds[userbin.ArgMem] || !kinds[userbin.ArgMemPC] {
		t.Logf("gcc chose operands of kinds %v only: the test covers less than it should", kinds)
	}
	if sites["app:loop"] < 2 {
		t.Errorf("app:loop is at %d places, not 2: step() was not inlined twice", sites["app:loop"])
	}
	got, _ := runWithCommand(t, `struct item { int id; long weight; const char *label; }
usdt:BIN:app:loop { printf("%s %d %s %ld\n", probe, arg0, str(arg1), arg2); }
U:BIN:neg { printf("neg %d %d\n", arg0, arg1); }
usdt:BIN:item { printf("item %d %ld %s %d\n", arg0, arg1, str(arg2), ((struct item *)arg3)->id); }
usdt:BIN:other:* { printf("%s\n", probe); }
usdt:BIN:app:t?ck { printf("tick %d\n", arg0); }
`, bin)
	want := `usdt:BIN:app:loop 0 hello usdt 0
neg -5 77
item 9 123456789012 widget 9
usdt:BIN:other:loop
tick 0
usdt:BIN:app:loop 1 hello usdt 1000
neg -5 77
item 9 123456789012 widget 9
usdt:BIN:other:loop
tick 1


`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A USDT probe's semaphore counts the uprobes attached at the probe's
// places: with -p, the traced process's is 2 (app:tick is at two places)
// while the probe is attached and 0 before and after; another process
// running the same program is not traced, and its semaphore stays 0.
func TestUSDTSemaphore(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUSDTTarget(t)
	traced, other := startWaitingTarget(t, bin), startWaitingTarget(t, bin)
	ask := func(w *waitingTarget, n int) string {
		line, err := w.ask(n)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	if s := ask(traced, 1); s != "0" {
		t.Fatalf("the semaphore is %s before tracing", s)
	}
	pid := traced.cmd.Process.Pid
	s, err := runtime.Compile("usdt.gt", strings.ReplaceAll(`usdt:BIN:tick { printf("tick %d %d\n", arg0, pid == $1); }`, "BIN", bin),
		runtime.CompileOptions{PID: pid, Params: []string{strconv.Itoa(pid)}})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	var during []string
	if _, err := s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() {
		defer cancel()
		during = []string{ask(traced, 2), ask(other, 3), ask(traced, 4)}
	}}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	// The kernel counts each place of the probe attached: 2 here.
	if want := []string{"2", "0", "2"}; !slices.Equal(during, want) {
		t.Errorf("semaphores while tracing (traced, other, traced): %q, want %q", during, want)
	}
	if s := ask(traced, 5); s != "0" {
		t.Errorf("the semaphore is %s after tracing", s)
	}
	if got, want := out.String(), "tick 2 1\ntick 4 1\n\n\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// -l lists a file's USDT probes; mistakes are reported with what the file
// has.
func TestUSDTListAndErrors(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUSDTTarget(t)
	names, err := runtime.ListProbes("usdt:" + bin)
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = strings.ReplaceAll(names[i], bin, "BIN")
	}
	want := []string{"usdt:BIN:app:item", "usdt:BIN:app:loop", "usdt:BIN:app:neg", "usdt:BIN:app:tick", "usdt:BIN:other:loop"}
	if !slices.Equal(names, want) {
		t.Errorf("-l usdt:BIN: %q, want %q", names, want)
	}
	if names, err := runtime.ListProbes("U:" + bin + ":app:l*"); err != nil || len(names) != 1 {
		t.Errorf("-l U:BIN:app:l*: %q, %v", names, err)
	}
	// -lv: each argument's type, from the note's size and sign, and its
	// place, which is gcc's choice (cmd/gotrace TestListUSDTVerbose checks
	// places that are not).
	verbose, err := runtime.ListProbesVerbose("usdt:" + bin + ":*")
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string][]string{
		"usdt:BIN:app:item":   {"int32", "int64", "uint64", "uint64"},
		"usdt:BIN:app:loop":   {"int32", "uint64", "int64"},
		"usdt:BIN:app:neg":    {"int32", "int32"},
		"usdt:BIN:app:tick":   {"int32"},
		"usdt:BIN:other:loop": nil,
	}
	if len(verbose) != len(wantTypes) {
		t.Errorf("-lv lists %d probes, want %d", len(verbose), len(wantTypes))
	}
	argLine := regexp.MustCompile(`^arg([0-9]): (u?int[0-9]+) \(([^ ]+@[^ ]+)( or [^ ]+@[^ ]+)*\)$`)
	for _, p := range verbose {
		name := strings.ReplaceAll(p.Name, bin, "BIN")
		want, ok := wantTypes[name]
		if !ok || len(p.Args) != len(want) {
			t.Errorf("-lv: %s with arguments %q", name, p.Args)
			continue
		}
		for i, line := range p.Args {
			m := argLine.FindStringSubmatch(line)
			if m == nil || m[1] != strconv.Itoa(i) || m[2] != want[i] {
				t.Errorf("-lv: %s: %q, want arg%d: %s (PLACE)", name, line, i, want[i])
			}
		}
	}
	noNotes := buildUprobeTarget(t)
	cases := []struct{ script, want string }{
		{`usdt:BIN:loop { }`, `usdt:BIN:loop: several providers have a probe loop: name one: usdt:BIN:app:loop, usdt:BIN:other:loop`},
		{`usdt:BIN:nosuch { }`, `usdt:BIN:nosuch: BIN has no USDT probe nosuch; it has app:loop, app:neg, app:item, other:loop, app:tick`},
		{`usdt:BIN:app:tick { print(arg1); }`, `usdt:BIN:app:tick has 1 arguments: arg0..arg0`},
		{`usdt:BIN { }`, `usdt needs a file and a probe: usdt:PATH:NAME or usdt:PATH:PROVIDER:NAME`},
		{`usdt:BIN:other:loop { print(arg0); }`, `this USDT probe has no arguments`},
		{fmt.Sprintf(`usdt:%s:x { }`, noNotes), `has no USDT probes (no .note.stapsdt section)`},
	}
	for _, c := range cases {
		_, err := runtime.Compile("-e", strings.ReplaceAll(c.script, "BIN", bin), runtime.CompileOptions{})
		if err == nil {
			t.Errorf("%s compiled", c.script)
			continue
		}
		if got := strings.ReplaceAll(err.Error(), bin, "BIN"); !strings.Contains(got, c.want) {
			t.Errorf("%s:\n%s\nwant it to say: %s", c.script, got, c.want)
		}
	}
	// The same probes, attached for real, in bpftrace's listing order.
	if _, err := exec.LookPath("readelf"); err == nil {
		out, err := exec.Command("readelf", "-n", bin).Output()
		if err == nil && strings.Count(string(out), "NT_STAPSDT") < len(want) {
			t.Errorf("readelf lists fewer notes than gotrace:\n%s", out)
		}
	}
}
