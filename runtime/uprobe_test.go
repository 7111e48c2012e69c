package runtime_test

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// uprobeTargetSource is the program the uprobe tests trace. Its functions
// are called with known arguments and return known values:
//
//	(no arguments)  the calls below, then exit
//	linger MS       the calls, then MS milliseconds of sleep, then exit
//	wait            for each line N read on stdin: add3(N, getpid(), 7),
//	                then "done" on stdout; exit at the end of input
const uprobeTargetSource = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct point { int x; int y; };
int counter = 41;
short level = -3;
const char *names[] = {"alpha", "beta", "gamma"};

long __attribute__((noinline)) add3(int a, long b, long c) { return a + b + c; }
int __attribute__((noinline)) greet(const char *name, int n) { return (int)strlen(name) * n; }
int __attribute__((noinline)) norm(struct point *p) { return p->x * p->x + p->y * p->y; }
int __attribute__((noinline)) negative(void) { return -42; }
unsigned long __attribute__((noinline)) big(void) { return 0xfedcba9876543210UL; }
void __attribute__((noinline)) fn_one(void) { counter++; }
void __attribute__((noinline)) fn_two(void) { counter += 2; }
void __attribute__((noinline)) leaf(void) { counter++; }
void __attribute__((noinline)) middle(void) { leaf(); }
void __attribute__((noinline)) outer(void) { middle(); }

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		char line[64];
		while (fgets(line, sizeof line, stdin)) {
			add3(atoi(line), getpid(), 7);
			printf("done\n");
			fflush(stdout);
		}
		return 0;
	}
	/* A probe cannot fault a page in: the strings are read once first. */
	size_t total = 0;
	for (int i = 0; i < 3; i++)
		total += strlen(names[i]);
	struct point p = {3, 4};
	for (int i = 0; i < 3; i++) {
		add3(i, 10L * i, 1000);
		greet(names[i], i);
	}
	norm(&p);
	negative();
	big();
	fn_one();
	fn_two();
	fn_two();
	outer();
	getpid();
	if (argc > 2 && strcmp(argv[1], "linger") == 0)
		usleep(atoi(argv[2]) * 1000);
	return total == 14 ? 0 : 1;
}
`

// buildUprobeTarget compiles uprobeTargetSource as a PIE executable with
// frame pointers (so that user stacks can be walked).
func buildUprobeTarget(t *testing.T) string {
	t.Helper()
	return kerneltest.CompileC(t, t.TempDir(), "uprobetarget", uprobeTargetSource, "-fPIE", "-pie", "-fno-omit-frame-pointer")
}

// runWithCommand runs script (BIN replaced by bin) with the command bin
// ARGS... started for the run (-c): the run ends when the command exits.
func runWithCommand(t *testing.T, script, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	script = strings.ReplaceAll(script, "BIN", bin)
	s, err := runtime.Compile("uprobe.gt", script, runtime.CompileOptions{ChildCommand: true})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if _, err := s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, Command: exec.Command(bin, args...)}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("the run did not end when the command did; output:\n%s", out.String())
	}
	return strings.ReplaceAll(out.String(), bin, "BIN"), errOut.String()
}

// uprobe arguments are the C calling convention's registers; integers
// used as addresses (str(arg0), casts to struct pointers, uaddr()) are
// read from the traced program's memory (uaddr() points to an unsigned
// integer of the symbol's size: ELF symbols have no types, so the short
// -3 reads as 65533); probe and func name the probe.
func TestUprobeArguments(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	got, _ := runWithCommand(t, `struct point { int x; int y; }
uprobe:BIN:add3 { printf("%s %s %d %d %d\n", probe, func, arg0, arg1, arg2); }
u:BIN:greet { printf("greet %s %d %s\n", str(arg0), arg1, str(arg0, 2)); }
uprobe:BIN:norm { $p = (struct point *)arg0; printf("norm %d %d\n", $p->x, $p->y); }
uprobe:BIN:fn_one { printf("%d %d %s\n", *uaddr("counter"), *uaddr("level"), str(*uaddr("names"))); }
uprobe:BIN:fn_two+4 { printf("%s %s\n", probe, func); }
`, bin)
	want := `uprobe:BIN:add3 add3 0 0 1000
greet alpha 0 al
uprobe:BIN:add3 add3 1 10 1000
greet beta 1 be
uprobe:BIN:add3 add3 2 20 1000
greet gamma 2 ga
norm 3 4
41 65533 alpha
uprobe:BIN:fn_two+4 fn_two
uprobe:BIN:fn_two+4 fn_two


`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// uretprobe's retval is the return register, a uint64 (as in bpftrace):
// a 32-bit result needs a cast to show its sign.
func TestUretprobeReturnValues(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	got, _ := runWithCommand(t, `
uretprobe:BIN:add3 { printf("%s %d\n", probe, retval); }
ur:BIN:greet { printf("greet %d\n", retval); }
uretprobe:BIN:negative { printf("%s %d\n", func, (int32)retval); }
uretprobe:BIN:big { printf("%lx\n", retval); }
`, bin)
	want := `uretprobe:BIN:add3 1000
greet 0
uretprobe:BIN:add3 1011
greet 4
uretprobe:BIN:add3 1022
greet 10
negative -42
fedcba9876543210


`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A library named by its short name is found as the dynamic loader finds
// it (ldconfig -p says where that is), and the probe is named by its path.
// A wildcard over a file's functions attaches one probe per function.
func TestUprobeLibraryAndWildcard(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	libc := ldconfigPath(t, "libc.so.6")
	got, _ := runWithCommand(t, `
uprobe:libc:getpid /pid == cpid/ { @libc[probe] = count(); }
uprobe:BIN:fn_* { @fn[probe, func] = count(); }
`, bin)
	want := "\n\n@fn[uprobe:BIN:fn_one, fn_one]: 1\n@fn[uprobe:BIN:fn_two, fn_two]: 2\n" +
		"@libc[uprobe:" + libc + ":getpid]: 1\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// ldconfigPath is where the loader's cache says the x86-64 or arm64
// library soname is, as ldconfig -p prints it.
func ldconfigPath(t *testing.T, soname string) string {
	t.Helper()
	out, err := exec.Command("ldconfig", "-p").Output()
	if err != nil {
		out, err = exec.Command("/sbin/ldconfig", "-p").Output()
	}
	if err != nil {
		t.Skipf("ldconfig -p: %v", err)
	}
	re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(soname) + ` \(libc6,(x86-64|AArch64)[^)]*\) => (\S+)$`)
	m := re.FindSubmatch(out)
	if m == nil {
		t.Skipf("ldconfig -p does not list %s", soname)
	}
	return string(m[2])
}

// waitingTarget is uprobetarget in "wait" mode: it calls add3 once for
// each line written to it and answers "done".
type waitingTarget struct {
	pipedProcess
	mu    sync.Mutex
	ended bool
}

func startWaitingTarget(t *testing.T, bin string) *waitingTarget {
	t.Helper()
	w := &waitingTarget{pipedProcess: startPiped(t, exec.Command(bin, "wait"))}
	t.Cleanup(w.end)
	return w
}

// call makes the target call add3(n, pid, 7) and waits until it has.
func (w *waitingTarget) call(n int) error {
	line, err := w.ask(n)
	if err == nil && line != "done" {
		err = fmt.Errorf("the target answered %q", line)
	}
	return err
}

// ask writes n to the target and returns the line it answers.
func (w *waitingTarget) ask(n int) (string, error) {
	if _, err := io.WriteString(w.in, strconv.Itoa(n)+"\n"); err != nil {
		return "", err
	}
	line, err := w.out.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// end closes the target's input and waits for it to exit.
func (w *waitingTarget) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.ended = true
	w.in.Close()
	w.cmd.Wait()
}

// With -p, uprobes (on the program and on its libraries) fire in that
// process only, though another process runs the same code meanwhile; the
// run ends when the process exits.
func TestUprobePID(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	traced, other := startWaitingTarget(t, bin), startWaitingTarget(t, bin)
	pid := traced.cmd.Process.Pid
	s, err := runtime.Compile("pid.gt", strings.ReplaceAll(`
uprobe:BIN:add3 { printf("add3 %d %d\n", arg0, arg1 == $1); }
uprobe:libc:getpid { @getpid[pid == $1] = count(); }
`, "BIN", bin), runtime.CompileOptions{PID: pid, Params: []string{strconv.Itoa(pid)}})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	var werr error
	_, err = s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() {
		// The other process's calls come first and are done before the
		// traced process's: the probes were attached for all of them.
		for _, step := range []struct {
			w *waitingTarget
			n int
		}{{other, 1}, {other, 2}, {traced, 3}, {other, 4}, {traced, 5}} {
			if werr = step.w.call(step.n); werr != nil {
				return
			}
		}
		traced.end()
	}})
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run did not end when process %d exited; output:\n%s", pid, out.String())
	}
	want := "add3 3 1\nadd3 5 1\n\n\n@getpid[1]: 2\n"
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// symbolAddress is the address of a function of an ELF file, as nm prints
// it.
func symbolAddress(t *testing.T, file, name string) uint64 {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", file, name)
	return 0
}

// A uprobe at an address fires there, and is in the function that covers
// it; an address inside an instruction is refused.
func TestUprobeAddress(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	addr := symbolAddress(t, bin, "negative")
	got, _ := runWithCommand(t, fmt.Sprintf(`uprobe:BIN:0x%x { printf("%%s %%s\n", probe, func); }`, addr), bin)
	if want := fmt.Sprintf("uprobe:BIN:0x%x negative\n\n\n", addr); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Mistakes in uprobes are reported when the script is compiled, each with
// what to do instead.
func TestUprobeErrors(t *testing.T) {
	bin := buildUprobeTarget(t)
	addr := symbolAddress(t, bin, "add3")
	cases := []struct{ script, want string }{
		{`uprobe:BIN:nosuch { }`, `uprobe:BIN:nosuch: BIN has no function nosuch`},
		{`uprobe:BIN:add33 { }`, `uprobe:BIN:add33: BIN has no function add33; did you mean add3?`},
		{`uprobe:BIN:counter { }`, `uprobe:BIN:counter: counter in BIN is data, not a function`},
		{`uprobe:BIN:fn_x* { }`, `uprobe:BIN:fn_x* matches no function of BIN`},
		{`uretprobe:BIN:add3+4 { }`, `uretprobe takes no offset`},
		{`uprobe:BIN:add3+2 { }`, `uprobe:BIN:add3+2: offset 2 is inside the instruction at add3+`},
		{fmt.Sprintf(`uprobe:BIN:0x%x { }`, addr+2), fmt.Sprintf(`uprobe:BIN:0x%x: offset 2 is inside the instruction at add3+`, addr+2)},
		{`uprobe:BIN:add3+100000 { }`, `offset 100000 is past the end of add3`},
		{`uprobe:BIN { }`, `uprobe needs a file and a function: uprobe:PATH:FUNC, uprobe:PATH:FUNC+OFFSET or uprobe:PATH:ADDRESS`},
		{`uprobe:/nonexistent/prog:main { }`, `uprobe:/nonexistent/prog:main: /nonexistent/prog: no such file or directory`},
		{`uprobe:nosuchlibrary:f { }`, `nosuchlibrary: no library or program of that name`},
		{`tracepoint:syscalls:sys_enter_getpid, uprobe:BIN:add3 { }`, `cannot share a block with uprobe:BIN:add3: addresses are in user memory in one and in kernel memory in the other`},
		{`uprobe:BIN:add3 { print(uaddr("nosuch")); }`, `BIN has no symbol "nosuch"`},
		{`uretprobe:BIN:add3 { print(*uaddr("counter")); }`, `uaddr() needs to know where BIN is loaded`},
		{`uretprobe:BIN:add3 { print(arg0); }`, `uretprobe probes have no arguments`},
		{`uprobe:BIN:add3 { print(retval); }`, `retval is only valid in kretprobe, uretprobe and fexit probes`},
		{`uprobe:BIN:add3 { print(reg("xyz")); }`, `there is no register "xyz"`},
		{`tracepoint:syscalls:sys_enter_getpid { print(reg("ip")); }`, `reg() reads the registers of kprobe, kretprobe, uprobe, uretprobe and usdt probes, not of tracepoint probes`},
	}
	for _, c := range cases {
		t.Run(c.script, func(t *testing.T) {
			_, err := runtime.Compile("-e", strings.ReplaceAll(c.script, "BIN", bin), runtime.CompileOptions{})
			if err == nil {
				t.Fatal("compiled")
			}
			if got := strings.ReplaceAll(err.Error(), bin, "BIN"); !strings.Contains(got, c.want) {
				t.Errorf("error:\n%s\nwant it to say: %s", got, c.want)
			}
		})
	}
}

// goTargetSource is a Go program for the uprobe tests: Go's names have
// dots, slashes and stars, and its functions take arguments in the
// registers of Go's own ABI.
const goTargetSource = `package main

//go:noinline
func Add(a, b int) int { return a + b }

type T struct{ n int }

//go:noinline
func (t *T) Inc(k int) int { t.n += k; return t.n }

func main() {
	t := &T{}
	for i := 0; i < 2; i++ {
		Add(i, 100)
		t.Inc(i + 5)
	}
}
`

// buildGoTarget builds goTargetSource with the go command running the
// tests.
func buildGoTarget(t *testing.T) string {
	t.Helper()
	gocmd := filepath.Join(goruntime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gocmd); err != nil {
		if gocmd, err = exec.LookPath("go"); err != nil {
			kerneltest.SkipOrFail(t, "the go command is needed to build a Go test program")
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goTargetSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/gotarget\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gotarget")
	cmd := exec.Command(gocmd, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Uprobes work on Go programs, whose arguments are in the registers of
// Go's ABI; uretprobes, which would crash them, are refused.
func TestUprobeGoProgram(t *testing.T) {
	kerneltest.Require(t)
	bin := buildGoTarget(t)
	got, _ := runWithCommand(t, `
uprobe:BIN:main.Add { printf("%s %d %d\n", func, arg0, arg1); }
uprobe:BIN:"main.(*T).Inc" { printf("%s %d\n", probe, arg1); }
`, bin)
	want := "main.Add 0 100\nuprobe:BIN:main.(*T).Inc 5\nmain.Add 1 100\nuprobe:BIN:main.(*T).Inc 6\n\n\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	_, err := runtime.Compile("-e", "uretprobe:"+bin+":main.Add { }", runtime.CompileOptions{})
	if err == nil || !strings.Contains(err.Error(), "was built by Go, and uretprobes crash Go programs") {
		t.Errorf("a uretprobe on a Go program: %v; want it refused", err)
	}
}

// -l lists the functions of the file a uprobe pattern names.
func TestListUprobes(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"uprobe:" + bin + ":fn_*", []string{"uprobe:BIN:fn_one", "uprobe:BIN:fn_two"}},
		{"u:" + bin + ":fn_t?o", []string{"uprobe:BIN:fn_two"}},
		{"uretprobe:" + bin + ":add3", []string{"uretprobe:BIN:add3"}},
	} {
		names, err := runtime.ListProbes(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		for i := range names {
			names[i] = strings.ReplaceAll(names[i], bin, "BIN")
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("-l %s: %q, want %q", c.pattern, names, c.want)
		}
	}
	all, err := runtime.ListProbes("uprobe:" + bin)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(all, "uprobe:"+bin+":main") || !slices.Contains(all, "uprobe:"+bin+":leaf") {
		t.Errorf("-l uprobe:BIN does not list main and leaf: %q", all)
	}
}
