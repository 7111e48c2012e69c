package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// runLateProcess runs script and, once its probes are attached, the
// command bin ARGS..., which must linger a while after the calls the
// script traces: records are read meanwhile (a process is reported to
// user space when a probe first sees it). The run ends once the process
// has exited, so that the maps print after it is gone.
func runLateProcess(t *testing.T, script, bin string, args ...string) string {
	t.Helper()
	s, err := runtime.Compile("late.gt", script, runtime.CompileOptions{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	werr := make(chan error, 1)
	_, err = s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() {
		// The run reads records once OnAttached has returned: the
		// process is waited for elsewhere.
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			werr <- err
			cancel()
			return
		}
		go func() {
			defer cancel()
			err := cmd.Wait()
			if _, serr := os.Stat("/proc/" + strconv.Itoa(cmd.Process.Pid)); err == nil && serr == nil {
				err = fmt.Errorf("process %d still exists after it was waited for", cmd.Process.Pid)
			}
			werr <- err
		}()
	}})
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// A user stack taken in a process that starts after the probes are
// attached, and exits before the stacks are printed (as map keys, when
// the run ends), is named from its functions: the process was reported
// to user space when a probe first took its stack, and its mappings were
// read then. Each mode and place prints in bpftrace 0.17's layout, and
// the perf mode's addresses agree with the names.
func TestUstackOfExitedProcess(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	script := strings.ReplaceAll(`
uprobe:BIN:leaf {
	@[ustack(3)] = count();
	@p[ustack(perf, 3)] = count();
	@r[ustack(raw, 2)] = count();
	@u[usym(reg("ip")), ustack(1)] = count();
	printf("%s|\n", ustack(2));
}
tracepoint:syscalls:sys_enter_getpid /comm == "uprobetarget"/ { @tp[ustack(1)] = count(); }
`, "BIN", bin)
	got := strings.ReplaceAll(runLateProcess(t, script, bin, "linger", "300"), bin, "BIN")
	off := `\+(\d+)`
	hex := `([0-9a-f]+)`
	layout := regexp.MustCompile(`^\n        leaf\+0\n        middle\+\d+\n\|\n\n\n` +
		`@\[\n    leaf\+0\n    middle` + off + `\n    outer` + off + `\n\]: 1\n` +
		`@p\[\n\t` + hex + ` leaf\+0 \(BIN\)\n\t` + hex + ` middle` + off + ` \(BIN\)\n\t` + hex + ` outer` + off + ` \(BIN\)\n\]: 1\n` +
		`@r\[\n\t` + hex + `\n\t` + hex + `\n\]: 1\n` +
		`@tp\[\n    (?:__)?getpid\+\d+\n\]: 1\n` +
		`@u\[leaf, \n    leaf\+0\n\]: 1\n$`)
	m := layout.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("output does not have the expected names and layout:\n%s", got)
	}
	if m[1] != m[5] || m[2] != m[7] {
		t.Errorf("bpftrace mode says middle+%s outer+%s, perf mode middle+%s outer+%s", m[1], m[2], m[5], m[7])
	}
	// Each perf frame's address minus its offset is where its function
	// was loaded: the file's address of the function plus one load bias.
	bias := map[uint64]bool{}
	for _, f := range []struct {
		addr, off, fn string
	}{{m[3], "0", "leaf"}, {m[4], m[5], "middle"}, {m[6], m[7], "outer"}} {
		a, _ := strconv.ParseUint(f.addr, 16, 64)
		o, _ := strconv.ParseUint(f.off, 10, 64)
		bias[a-o-symbolAddress(t, bin, f.fn)] = true
	}
	if len(bias) != 1 {
		t.Errorf("the perf frames' addresses and names disagree: load biases %v", bias)
	}
	if m[8] != m[3] || m[9] != m[4] {
		t.Errorf("raw frames %s %s, perf frames' addresses %s %s", m[8], m[9], m[3], m[4])
	}
}

// Printed while the process runs, gotrace's user stacks are bpftrace's, byte
// for byte: both attached to the same call of a waiting process.
func TestUstackSameAsBpftrace(t *testing.T) {
	kerneltest.Require(t)
	bpftrace, err := exec.LookPath("bpftrace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bpftrace is not installed; .ci/run installs it")
		}
		t.Skip("bpftrace is not installed (apt-get install bpftrace)")
	}
	bin := buildUprobeTarget(t)
	target := startWaitingTarget(t, bin)
	script := strings.ReplaceAll(`uprobe:BIN:add3 /pid == $1/ { printf("%s|%s|\n", ustack(2), ustack(perf, 2)); print(ustack(1)); }`, "BIN", bin)
	pid := strconv.Itoa(target.cmd.Process.Pid)
	cmd, stdout := startBpftrace(t, bpftrace, "-e", script, pid)

	s, err := runtime.Compile("ustack-bpftrace.gt", script, runtime.CompileOptions{Params: []string{pid}})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	var werr error
	if _, err := s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() {
		defer cancel()
		werr = target.call(1)
		// Both tracers print while the process still runs.
		time.Sleep(time.Second)
	}}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if !strings.Contains(out.String(), "add3+0") {
		t.Fatalf("gotrace did not name the stack:\n%s", out.String())
	}
	stopBpftrace(t, cmd, stdout)
	want := strings.TrimPrefix(stdout.String(), "Attaching 1 probe...\n")
	if got := out.String(); got != want {
		t.Errorf("gotrace and bpftrace differ\n--- gotrace\n%q\n--- bpftrace\n%q", got, want)
	}
}

// cxxTargetSource is a C++ program whose function names are mangled.
const cxxTargetSource = `
#include <unistd.h>
namespace MyApp {
struct Server {
	int fd;
	int __attribute__((noinline)) handle(int x) { return fd + x; }
};
}
int __attribute__((noinline)) run_server() { MyApp::Server s{3}; return s.handle(4); }
int main() { int r = run_server(); usleep(300000); return r == 7 ? 0 : 1; }
`

// C++ names are demangled where user symbols print (ustack, usym), as
// bpftrace does, unless the script's config says cpp_demangle = false; a
// uprobe names the function by its mangled name, which a wildcard finds.
func TestUstackDemangles(t *testing.T) {
	kerneltest.Require(t)
	bin := kerneltest.CompileCXX(t, t.TempDir(), "cxxtarget", cxxTargetSource, "-fno-omit-frame-pointer")
	script := `uprobe:BIN:*Server6handle* { printf("%s %s|%s\n", probe, usym(reg("ip")), ustack(2)); }`
	script = strings.ReplaceAll(script, "BIN", bin)
	got := strings.ReplaceAll(runLateProcess(t, script, bin), bin, "BIN")
	if want := regexp.MustCompile(`^uprobe:BIN:_ZN5MyApp6Server6handleEi MyApp::Server::handle\(int\)\|\n        MyApp::Server::handle\(int\)\+0\n        run_server\(\)\+\d+\n\n\n\n$`); !want.MatchString(got) {
		t.Errorf("got %q, want it to match %s", got, want)
	}
	got = strings.ReplaceAll(runLateProcess(t, "config = { cpp_demangle = false }\n"+script, bin), bin, "BIN")
	if want := regexp.MustCompile(`^uprobe:BIN:_ZN5MyApp6Server6handleEi _ZN5MyApp6Server6handleEi\|\n        _ZN5MyApp6Server6handleEi\+0\n        _Z10run_serverv\+\d+\n\n\n\n$`); !want.MatchString(got) {
		t.Errorf("with cpp_demangle = false: got %q, want it to match %s", got, want)
	}
}

// The stack_mode setting is how stacks print when the script names no
// mode.
func TestUstackStackMode(t *testing.T) {
	kerneltest.Require(t)
	bin := buildUprobeTarget(t)
	script := strings.ReplaceAll(`config = { stack_mode = perf }
uprobe:BIN:leaf { printf("%s|%s", ustack(1), ustack(raw, 1)); }`, "BIN", bin)
	got := strings.ReplaceAll(runLateProcess(t, script, bin, "linger", "300"), bin, "BIN")
	if want := regexp.MustCompile(`^\n\t([0-9a-f]+) leaf\+0 \(BIN\)\n\|\n\t([0-9a-f]+)\n\n\n$`); !want.MatchString(got) {
		t.Errorf("got %q, want it to match %s", got, want)
	}
}
