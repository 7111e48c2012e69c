package usersym

import (
	"bufio"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// targetSource is a program whose functions the tests name. It prints the
// addresses of a static function, a global one, one of a shared library
// the test builds, and libc's getpid, then waits for lines on stdin:
// "load" makes it dlopen the library named by argv[1] and print the
// address of that library's usym_dl_function. It exits at end of input.
const targetSource = `
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int usym_lib_function(int x);

static int __attribute__((noinline)) static_function(int x) { return x + 1; }
int __attribute__((noinline)) global_function(int x) { return static_function(x) * 2; }

int main(int argc, char **argv) {
	printf("%p %p %p %p\n", (void *)static_function, (void *)global_function,
	       (void *)usym_lib_function, (void *)getpid);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		if (strcmp(line, "load\n") == 0) {
			void *h = dlopen(argv[1], RTLD_NOW);
			printf("%p\n", h ? dlsym(h, "usym_dl_function") : NULL);
			fflush(stdout);
		}
	}
	return global_function(usym_lib_function(1)) == 0;
}
`

const libSource = `
int usym_lib_function(int x) { return x * 5; }
`

const dlSource = `
int usym_dl_function(int x) { return x - 5; }
`

// built is a target program and the libraries it uses.
type built struct {
	bin, lib, dl string
}

// buildTarget compiles targetSource with the extra flags, linked against
// its own shared library.
func buildTarget(t *testing.T, flags ...string) built {
	t.Helper()
	dir := t.TempDir()
	lib := kerneltest.CompileC(t, dir, "libusymtest.so", libSource, "-shared", "-fPIC")
	dl := kerneltest.CompileC(t, dir, "libusymdl.so", dlSource, "-shared", "-fPIC")
	args := append(flags, "-L"+dir, "-lusymtest", "-Wl,-rpath,"+dir, "-ldl")
	bin := kerneltest.CompileC(t, dir, "usymtarget", targetSource, args...)
	return built{bin: bin, lib: lib, dl: dl}
}

// program is a running test program that printed addresses on its first
// line of output and runs until its stdin is closed.
type program struct {
	pid int
	// addrs are the addresses it printed.
	addrs  []uint64
	stdin  io.WriteCloser
	stdout *bufio.Reader
	cmd    *exec.Cmd
}

// startProgram runs bin with args and reads the addresses it prints.
func startProgram(tb testing.TB, bin string, args ...string) *program {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &program{pid: cmd.Process.Pid, stdin: stdin, stdout: bufio.NewReader(out), cmd: cmd}
	tb.Cleanup(func() { p.stop(tb) })
	p.addrs = p.readAddrs(tb)
	return p
}

// readAddrs reads a line of addresses the program printed.
func (p *program) readAddrs(tb testing.TB) []uint64 {
	tb.Helper()
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		tb.Fatalf("reading the program's output: %v", err)
	}
	var addrs []uint64
	for _, f := range strings.Fields(line) {
		a, err := strconv.ParseUint(f, 0, 64)
		if err != nil {
			tb.Fatalf("the program printed %q: %v", line, err)
		}
		addrs = append(addrs, a)
	}
	return addrs
}

// stop ends the program and waits until it is gone.
func (p *program) stop(tb testing.TB) {
	p.stdin.Close()
	if p.cmd.ProcessState == nil {
		if err := p.cmd.Wait(); err != nil {
			tb.Errorf("%s: %v", p.cmd.Path, err)
		}
	}
}

// target is a running targetSource program.
type target struct {
	*program
	// static, global, lib and getpid are the addresses it printed.
	static, global, lib, getpid uint64
}

func startTarget(t *testing.T, b built) *target {
	t.Helper()
	p := startProgram(t, b.bin, b.dl)
	if len(p.addrs) != 4 {
		t.Fatalf("target printed %d addresses, want 4", len(p.addrs))
	}
	return &target{program: p, static: p.addrs[0], global: p.addrs[1], lib: p.addrs[2], getpid: p.addrs[3]}
}

// getpidNames are the names libc gives getpid's address: it has aliases
// (glibc's __getpid), and which one a symbolizer prints is its choice.
func getpidNames(t *testing.T, libc string) map[string]bool {
	t.Helper()
	f, err := elf.Open(libc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var addr uint64
	for _, s := range syms {
		if s.Name == "getpid" {
			addr = s.Value
		}
	}
	names := map[string]bool{}
	for _, s := range syms {
		if addr != 0 && s.Value == addr && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			names[s.Name] = true
		}
	}
	if !names["getpid"] {
		t.Fatalf("no getpid in %s", libc)
	}
	return names
}

// A static function and a global one of the executable, one of a shared
// library and one of libc are named, in PIE and position-dependent builds.
func TestLookupCProgram(t *testing.T) {
	builds := []struct {
		name  string
		flags []string
		// elfType tells that the build is what it claims to be.
		elfType elf.Type
	}{
		{"pie", []string{"-fPIE", "-pie"}, elf.ET_DYN},
		{"no-pie", []string{"-no-pie"}, elf.ET_EXEC},
	}
	for _, bld := range builds {
		t.Run(bld.name, func(t *testing.T) {
			b := buildTarget(t, bld.flags...)
			f, err := elf.Open(b.bin)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if f.Type != bld.elfType {
				t.Fatalf("built a %v, want a %v", f.Type, bld.elfType)
			}
			p := startTarget(t, b)
			r := NewResolver()
			cases := []struct {
				what  string
				addr  uint64
				names map[string]bool
				off   uint64
				file  string // "" for any
				found bool
			}{
				{"static function", p.static, set("static_function"), 0, b.bin, true},
				{"inside the static function", p.static + 1, set("static_function"), 1, b.bin, true},
				{"global function", p.global, set("global_function"), 0, b.bin, true},
				{"shared library function", p.lib, set("usym_lib_function"), 0, b.lib, true},
				{"shared library function, inside", p.lib + 3, set("usym_lib_function"), 3, b.lib, true},
				{"not mapped", 0x1234, nil, 0, "", false},
			}
			for _, c := range cases {
				s, ok := r.Lookup(p.pid, c.addr)
				if ok != c.found || (ok && (!c.names[s.Name] || s.Offset != c.off || (c.file != "" && s.File != c.file))) {
					t.Errorf("%s: Lookup(%#x) = %+v, %v; want one of %v +%d in %q", c.what, c.addr, s, ok, keys(c.names), c.off, c.file)
				}
			}
			// libc's getpid, in whichever libc the program loaded.
			s, ok := r.Lookup(p.pid, p.getpid)
			if !ok {
				t.Fatalf("libc's getpid at %#x is not named", p.getpid)
			}
			if names := getpidNames(t, s.File); !names[s.Name] || s.Offset != 0 {
				t.Errorf("getpid named %+v, want one of %v +0", s, keys(names))
			}
		})
	}
}

// A process seen alive is still named after it has exited, even once its
// snapshot is old enough to be read again; one never seen is not.
func TestLookupAfterExit(t *testing.T) {
	b := buildTarget(t)
	p := startTarget(t, b)
	seen := NewResolver()
	clock := time.Now()
	seen.now = func() time.Time { return clock }
	if err := seen.Snapshot(p.pid); err != nil {
		t.Fatal(err)
	}
	p.stop(t)
	if _, err := os.Stat("/proc/" + strconv.Itoa(p.pid)); err == nil {
		t.Fatalf("process %d still exists after it was waited for", p.pid)
	}
	for _, age := range []time.Duration{0, 2 * maxAge} {
		clock = clock.Add(age)
		if s, ok := seen.Lookup(p.pid, p.lib); !ok || s.Name != "usym_lib_function" {
			t.Errorf("after exit, snapshot %v older: Lookup = %+v, %v; want usym_lib_function", age, s, ok)
		}
	}
	if s, ok := NewResolver().Lookup(p.pid, p.lib); ok {
		t.Errorf("a process never seen alive was named: %+v", s)
	}
}

// A library loaded after the snapshot is found by reading the mappings
// again, but not more often than every missRefresh.
func TestLookupLibraryLoadedLater(t *testing.T) {
	b := buildTarget(t)
	p := startTarget(t, b)
	r := NewResolver()
	clock := time.Now()
	r.now = func() time.Time { return clock }
	if s, ok := r.Lookup(p.pid, p.static); !ok || s.Name != "static_function" {
		t.Fatalf("Lookup = %+v, %v; want static_function", s, ok)
	}
	if _, err := io.WriteString(p.stdin, "load\n"); err != nil {
		t.Fatal(err)
	}
	addrs := p.readAddrs(t)
	if len(addrs) != 1 || addrs[0] == 0 {
		t.Fatalf("dlopen failed: target printed %v", addrs)
	}
	if s, ok := r.Lookup(p.pid, addrs[0]); ok {
		t.Errorf("mappings were read again right after a read: found %+v", s)
	}
	clock = clock.Add(missRefresh)
	if s, ok := r.Lookup(p.pid, addrs[0]); !ok || s.Name != "usym_dl_function" || s.File != b.dl {
		t.Errorf("Lookup of the dlopened function = %+v, %v; want usym_dl_function in %s", s, ok, b.dl)
	}
}

// A stripped program's static functions are named from its detached debug
// file, found by build ID.
func TestLookupStrippedUsesDebugFile(t *testing.T) {
	b := buildTarget(t, "-Wl,--build-id")
	for _, tool := range []string{"objcopy", "strip"} {
		if _, err := exec.LookPath(tool); err != nil {
			kerneltest.SkipOrFail(t, "%s (binutils) is needed: %v", tool, err)
		}
	}
	debugDir := t.TempDir()
	f, err := elf.Open(b.bin)
	if err != nil {
		t.Fatal(err)
	}
	id, err := buildID(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := hex.EncodeToString(id)
	debugFile := filepath.Join(debugDir, ".build-id", s[:2], s[2:]+".debug")
	if err := os.MkdirAll(filepath.Dir(debugFile), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"objcopy", "--only-keep-debug", b.bin, debugFile},
		{"strip", "--strip-all", b.bin},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	p := startTarget(t, b)

	withDebug := NewResolver()
	withDebug.DebugDir = debugDir
	if sym, ok := withDebug.Lookup(p.pid, p.static); !ok || sym.Name != "static_function" {
		t.Errorf("with the debug file: Lookup = %+v, %v; want static_function", sym, ok)
	}
	without := NewResolver()
	without.DebugDir = t.TempDir()
	if sym, ok := without.Lookup(p.pid, p.static); ok {
		t.Errorf("the stripped program named a static function without its debug file: %+v", sym)
	}
}

// A program whose file was deleted while it runs is read through
// /proc/PID/map_files.
func TestLookupDeletedProgram(t *testing.T) {
	if os.Geteuid() != 0 {
		kerneltest.SkipOrFail(t, "reading /proc/PID/map_files needs root (running as uid %d)", os.Geteuid())
	}
	b := buildTarget(t)
	p := startTarget(t, b)
	if err := os.Remove(b.bin); err != nil {
		t.Fatal(err)
	}
	if s, ok := NewResolver().Lookup(p.pid, p.global); !ok || s.Name != "global_function" {
		t.Errorf("Lookup in a deleted program = %+v, %v; want global_function", s, ok)
	}
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
