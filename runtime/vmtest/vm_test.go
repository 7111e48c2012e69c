package vmtest

// The VM suite: each test boots the guest (Run, or InVM for tests whose
// body runs inside it). Their names start with TestVM, so that
// `go test -run '^TestVM' ./...` runs every VM test of the project.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

func TestMain(m *testing.M) {
	// Workloads re-execute this test binary, in the guest too.
	kerneltest.RunWorkload()
	os.Exit(m.Run())
}

// TestVMGuestStreams runs a shell in the guest and checks that its stdout,
// stderr and exit status come back exactly: bytes the tty layer would
// otherwise rewrite ("\n" to "\r\n"), more output than the UART's buffers
// hold, and a non-zero status.
func TestVMGuestStreams(t *testing.T) {
	res := Run(t, Guest{
		Args: []string{"/bin/sh", "-c", `printf 'a\r\nb\n'; seq 1 20000; printf "$1|$2|$(id -un)|$PWD" >&2; exit 7`, "sh", "it's", "a b"},
	})
	const wantStderr = "it's|a b|root|/tmp"
	var want strings.Builder
	want.WriteString("a\r\nb\n")
	for i := 1; i <= 20000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	if res.Stdout != want.String() || res.Stderr != wantStderr || res.ExitCode != 7 {
		t.Fatalf("got stdout of %d bytes, want %d (equal: %v); stderr %q, want %q; exit status %d, want 7\n%s",
			len(res.Stdout), want.Len(), res.Stdout == want.String(), res.Stderr, wantStderr, res.ExitCode, res.Diagnostics())
	}
}

// TestVMGotraceBegin runs the gotrace command in the guest on a script
// file, brought in as a directory of Guest.Files and named relative to
// Guest.Dir, and checks its exact output.
func TestVMGotraceBegin(t *testing.T) {
	scripts := t.TempDir()
	script := `BEGIN { printf("hello from %s, %d\n", $1, 6 * 7); exit(); }`
	if err := os.WriteFile(filepath.Join(scripts, "hello.gt"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	res := Run(t, Guest{
		Args:  []string{GotracePath, "hello.gt", "the VM"},
		Files: map[string]string{"/tmp/scripts": scripts},
		Dir:   "/tmp/scripts",
	})
	if res.Stdout != "hello from the VM, 42\n\n\n" || res.Stderr != "Attached 1 probe\n" || res.ExitCode != 0 {
		t.Fatalf("gotrace in the VM: stdout %q, stderr %q, exit status %d; want %q, %q, 0\n%s",
			res.Stdout, res.Stderr, res.ExitCode, "hello from the VM, 42\n\n\n", "Attached 1 probe\n", res.Diagnostics())
	}
}

// TestVMGotraceTracepoint runs gotrace in the guest on a tracepoint
// script while a workload makes a known number of system calls, the way
// the kprobe tests will: the test body runs inside the VM.
func TestVMGotraceTracepoint(t *testing.T) {
	if !InVM(t) {
		return
	}
	kerneltest.Require(t)
	script := kerneltest.Script(`
tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @calls = count(); }
tracepoint:syscalls:sys_enter_close /comm == "gtwork" && args.fd == 1000/ { exit(); }`)
	cmd := exec.Command(GotracePath, "-e", script)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := bufio.NewReader(stderr)
	attached, err := errLines.ReadString('\n')
	if attached != "Attached 2 probes\n" {
		rest, _ := io.ReadAll(errLines)
		t.Fatalf("gotrace's first line on stderr: %q (%v), want \"Attached 2 probes\\n\"; then:\n%s", attached, err, rest)
	}
	// The close of fd 1000 comes last and ends the script.
	if err := kerneltest.Workload("getppid 100; close 1 1000").Run(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var rest []byte
	go func() {
		rest, _ = io.ReadAll(errLines)
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil || stdout.String() != "\n\n@calls: 100\n" || len(rest) != 0 {
			t.Fatalf("gotrace: %v; stdout %q, want %q; more stderr %q", err, stdout.String(), "\n\n@calls: 100\n", rest)
		}
	case <-time.After(time.Minute):
		t.Fatalf("gotrace did not exit after the workload's close(1000); stdout so far %q", stdout.String())
	}
}

// syscallFunc is the kernel function behind getppid(2) that the probes
// below attach to: a kprobe target, and a BTF function with an ftrace
// entry for fentry/fexit. It is not the system call table's
// __x64_sys_getppid: on Debian's 6.1 kernel that wrapper has no ftrace
// entry (it is not in available_filter_functions), so fentry on it fails
// with "not supported", while kprobes on it work.
const syscallFunc = "__do_sys_getppid"

// TestVMKernelProbes checks that the guest kernel has what the kprobe and
// fentry providers need, by doing it: each kind of program attaches to
// the getppid system call and counts this process's calls exactly.
func TestVMKernelProbes(t *testing.T) {
	if !InVM(t) {
		return
	}
	kerneltest.Require(t)
	for _, f := range []string{"/sys/kernel/tracing/kprobe_events", "/sys/kernel/btf/vmlinux"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the guest kernel lacks %s: %v", f, err)
		}
	}
	attach := []struct {
		name string
		typ  ebpf.ProgramType
		at   ebpf.AttachType
		link func(*ebpf.Program) (link.Link, error)
	}{
		{"kprobe", ebpf.Kprobe, ebpf.AttachNone, func(p *ebpf.Program) (link.Link, error) {
			return link.Kprobe(syscallFunc, p, nil)
		}},
		{"kretprobe", ebpf.Kprobe, ebpf.AttachNone, func(p *ebpf.Program) (link.Link, error) {
			return link.Kretprobe(syscallFunc, p, nil)
		}},
		{"fentry", ebpf.Tracing, ebpf.AttachTraceFEntry, tracing},
		{"fexit", ebpf.Tracing, ebpf.AttachTraceFExit, tracing},
	}
	for _, a := range attach {
		t.Run(a.name, func(t *testing.T) {
			counts, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer counts.Close()
			spec := &ebpf.ProgramSpec{
				Type:         a.typ,
				AttachType:   a.at,
				Instructions: countCalls(counts, os.Getpid()),
				License:      "GPL",
			}
			if a.typ == ebpf.Tracing {
				spec.AttachTo = syscallFunc
			}
			prog, err := ebpf.NewProgram(spec)
			if err != nil {
				t.Fatalf("loading a %s program: %v", a.name, err)
			}
			defer prog.Close()
			l, err := a.link(prog)
			if err != nil {
				t.Fatalf("attaching a %s to %s: %v", a.name, syscallFunc, err)
			}
			for range 100 {
				unix.Getppid()
			}
			l.Close()
			unix.Getppid() // detached: not counted
			var n uint64
			if err := counts.Lookup(uint32(0), &n); err != nil {
				t.Fatal(err)
			}
			if n != 100 {
				t.Errorf("%s on %s counted %d getppid calls, want 100", a.name, syscallFunc, n)
			}
		})
	}
}

// tracing attaches an fentry or fexit program to the function it was
// loaded for.
func tracing(p *ebpf.Program) (link.Link, error) {
	return link.AttachTracing(link.TracingOptions{Program: p})
}

// countCalls is a program that adds one to counts[0] each time it runs in
// process tgid.
func countCalls(counts *ebpf.Map, tgid int) asm.Instructions {
	return asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(tgid), "exit"),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, counts.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	}
}

// failHelperEnv asks TestVMHelperFails to run: it exists only to be run
// by TestVMReportsGuestFailure, as a separate process.
const failHelperEnv = "GOTRACE_VMTEST_FAIL_HELPER"

// TestVMHelperFails fails inside the VM, on purpose, when asked to.
func TestVMHelperFails(t *testing.T) {
	if os.Getenv(failHelperEnv) != "1" && !Inside() {
		t.Skip("run by TestVMReportsGuestFailure")
	}
	if !InVM(t) {
		return
	}
	fmt.Println("guest output before the failure")
	t.Fatal("deliberate failure in the guest")
}

// TestVMReportsGuestFailure runs TestVMHelperFails in a child process and
// checks that InVM fails the test with what the guest said: the guest
// test's own message and the console.
func TestVMReportsGuestFailure(t *testing.T) {
	// Skip (or fail) here, as Run would, if the child cannot boot the VM:
	// its skip would look like a pass below.
	findTools(t)
	findKernel(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestVMHelperFails$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), failHelperEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("TestVMHelperFails passed:\n%s", out)
	}
	for _, want := range []string{
		"TestVMHelperFails failed in the VM",
		"guest output before the failure",
		"deliberate failure in the guest",
		"--- guest console (last 50 lines):",
		"--- FAIL: TestVMHelperFails",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the failing run's output lacks %q:\n%s", want, out)
		}
	}
}
