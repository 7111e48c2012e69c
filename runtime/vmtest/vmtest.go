package vmtest

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// GuestEnv is set to "1" in the environment of every program the guest
// runs: it is how a test binary knows it is inside the VM.
const GuestEnv = "GOTRACE_VM_GUEST"

// DefaultTimeout bounds a boot and run when Guest.Timeout is zero. A boot
// under software emulation takes seconds; the rest is for the guest
// program, which runs several times slower than on the host.
const DefaultTimeout = 3 * time.Minute

// Guest is what the VM runs: one program, as init's only child.
type Guest struct {
	// Args is the command line. Args[0] is a path in the guest, typically
	// TestBinaryPath or GotracePath; "/bin" also has busybox's commands.
	Args []string
	// Env adds KEY=VALUE entries to the program's environment, which
	// otherwise holds only PATH, HOME, TMPDIR and GuestEnv: nothing of
	// the host's leaks in.
	Env []string
	// Files adds host files to the guest, by guest path (absolute) to
	// host path; a host directory brings the files under it. The root
	// file system is in memory and writable; /proc, /sys, /dev and /run
	// are mount points and cannot hold files.
	Files map[string]string
	// Dir is the program's working directory, made if missing; empty
	// means /tmp.
	Dir string
	// Timeout bounds the boot and run; zero means DefaultTimeout. It is
	// cut short to end before the test's own deadline.
	Timeout time.Duration
}

// Result is what a guest run did.
type Result struct {
	// Stdout and Stderr are the program's output, byte for byte.
	Stdout, Stderr string
	// ExitCode is the program's exit status as its shell saw it (128+N
	// for a death by signal N), or -1 if it never reported one.
	ExitCode int
	// Console is the guest's console: kernel warnings and errors, and
	// the init script's errors, with "\n" line ends and the firmware's
	// terminal control sequences removed.
	Console string
	// Elapsed is qemu's wall time: boot, run and power-off.
	Elapsed time.Duration
	// Accel is the accelerator qemu used: "kvm" or "tcg".
	Accel string
}

// diagnosticLines is how many lines of each stream Diagnostics shows.
const diagnosticLines = 50

// Diagnostics returns the last lines of the program's stdout and stderr
// and of the console, for a failure message.
func (r *Result) Diagnostics() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit status %d after %v (%s)\n", r.ExitCode, r.Elapsed.Round(time.Millisecond), r.Accel)
	for _, s := range []struct{ name, text string }{
		{"stdout", r.Stdout}, {"stderr", r.Stderr}, {"console", r.Console},
	} {
		fmt.Fprintf(&b, "--- guest %s (last %d lines):\n%s\n", s.name, diagnosticLines, tail(s.text, diagnosticLines))
	}
	return b.String()
}

// Inside reports whether this process runs inside the VM.
func Inside() bool { return os.Getenv(GuestEnv) == "1" }

// Run boots the VM, runs g in it and returns what it did. The guest's
// binaries (TestBinaryPath, built from the package in the working
// directory, and GotracePath) are built for each run, statically; the Go
// build cache makes that a relink. Run fails t if the harness breaks or
// the guest never reports an exit status (a hang, a kernel panic), with
// the console in the message; a non-zero exit status is the caller's to
// judge. Run skips t (or fails it under GOTRACE_REQUIRE_KERNEL=1) when
// the host cannot run the VM.
func Run(t testing.TB, g Guest) *Result {
	t.Helper()
	if len(g.Args) == 0 {
		t.Fatal("vmtest.Run: Guest.Args is empty")
	}
	tl := findTools(t)
	dir := t.TempDir()

	// Build while apt finds the kernel: each takes a second or more.
	start := time.Now()
	var testBin, gotraceBin string
	var buildErr error
	var buildTime time.Duration
	built := make(chan struct{})
	go func() {
		defer close(built)
		testBin, gotraceBin, buildErr = buildBinaries(tl, dir)
		buildTime = time.Since(start)
	}()
	// If findKernel skips the test, the build must not outlive it (it
	// writes into dir, which the test's cleanup removes).
	t.Cleanup(func() { <-built })
	kernel := findKernel(t)
	kernelTime := time.Since(start)
	<-built
	if buildErr != nil {
		t.Fatalf("vmtest: building the guest's binaries: %v", buildErr)
	}
	extra, err := expandDirs(g.Files)
	if err != nil {
		t.Fatalf("vmtest: Guest.Files: %v", err)
	}
	files := map[string]string{TestBinaryPath: testBin, GotracePath: gotraceBin}
	for guestPath, hostPath := range extra {
		if !filepath.IsAbs(guestPath) {
			t.Fatalf("vmtest: guest path %q is not absolute", guestPath)
		}
		if why := reservedGuestPath(guestPath); why != "" {
			t.Fatalf("vmtest: guest path %q %s", guestPath, why)
		}
		files[guestPath] = hostPath
	}
	env := append([]string{"PATH=/bin", "HOME=/root", "TMPDIR=/tmp", GuestEnv + "=1"}, g.Env...)
	initrd := filepath.Join(dir, "initramfs.cpio.gz")
	if err := writeInitramfs(initrd, tl.busybox, guestScript(env, cmp.Or(g.Dir, "/tmp"), g.Args), files); err != nil {
		t.Fatalf("vmtest: writing the initramfs: %v", err)
	}
	packTime := time.Since(start) - max(buildTime, kernelTime)

	res, err := boot(tl, kernel, initrd, dir, timeout(t, g.Timeout))
	if err != nil {
		if res == nil {
			t.Fatalf("vmtest: %v", err)
		}
		t.Fatalf("vmtest: %v\n%s", err, res.Diagnostics())
	}
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("vmtest: binaries built in %v, kernel found in %v (meanwhile), initramfs packed in %v; %s booted, ran and powered off in %v (%s); exit status %d",
		ms(buildTime), ms(kernelTime), ms(packTime), kernel, ms(res.Elapsed), res.Accel, res.ExitCode)
	return res
}

// timeout is the run's time limit: the guest's, or the default, ending at
// least a few seconds before the test's deadline so that the failure
// message (with the console) is still printed.
func timeout(t testing.TB, want time.Duration) time.Duration {
	if want <= 0 {
		want = DefaultTimeout
	}
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			if left := time.Until(deadline) - 5*time.Second; left < want {
				want = max(left, time.Second)
			}
		}
	}
	return want
}

// InVM runs the calling test inside the VM and reports whether it is
// there. A test that needs a kernel the host may not have begins
//
//	if !vmtest.InVM(t) {
//		return
//	}
//
// Outside the VM, InVM boots it to run this same test (the package's test
// binary with -test.run matching only t) and returns false after checking
// that the test passed there: a failure fails t with the guest's output
// and console, and a skip in the guest skips t (or fails it under
// GOTRACE_REQUIRE_KERNEL=1, which the guest inherits). Inside the VM it
// returns true at once and the test body runs against the guest's kernel.
// Under go test -v, the guest's own -v output is logged.
//
// The package's TestMain, if it has one, runs in the guest too; the guest
// has no go command, so a TestMain that builds gotrace must use
// GotracePath instead when Inside() is true.
func InVM(t testing.TB) bool {
	t.Helper()
	return InVMWith(t, Guest{})
}

// InVMWith is InVM with the Env, Files, Dir and Timeout of g (its Args
// are InVM's own). Files and Dir give tests that read files by relative
// path what they need, e.g. for a test in pkg that reads ../testdata:
//
//	vmtest.InVMWith(t, vmtest.Guest{Files: map[string]string{"/src/testdata": "../testdata"}, Dir: "/src/pkg"})
func InVMWith(t testing.TB, g Guest) bool {
	t.Helper()
	if Inside() {
		return true
	}
	if v := os.Getenv(kerneltest.RequireEnv); v != "" {
		g.Env = append(slices.Clip(g.Env), kerneltest.RequireEnv+"="+v)
	}
	g.Args = []string{TestBinaryPath, "-test.run=" + runPattern(t.Name()), "-test.v", "-test.count=1"}
	res := Run(t, g)
	if testing.Verbose() {
		// What ran in the guest (its subtests, their logs and timings).
		t.Logf("the guest's go test -v output:\n%s", strings.TrimRight(res.Stdout, "\n"))
	}
	switch outcome := testOutcome(res.Stdout, t.Name()); {
	case outcome == "PASS" && res.ExitCode == 0:
		return false
	case outcome == "SKIP" && res.ExitCode == 0:
		kerneltest.SkipOrFail(t, "%s skipped in the VM:\n%s", t.Name(), tail(res.Stdout, diagnosticLines))
	case outcome == "":
		t.Fatalf("%s did not run in the VM (no --- PASS/FAIL/SKIP line for it)\n%s", t.Name(), res.Diagnostics())
	default:
		t.Fatalf("%s failed in the VM\n%s", t.Name(), res.Diagnostics())
	}
	return false
}

// runPattern is the -test.run pattern that matches the test named name
// (with its parents, for a subtest) and nothing else.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// testOutcome finds the result line "--- PASS: name (...)" (or FAIL or
// SKIP) in go test -v output and returns PASS, FAIL or SKIP, or "" if
// there is none.
func testOutcome(out, name string) string {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		for _, o := range []string{"PASS", "FAIL", "SKIP"} {
			if strings.HasPrefix(line, "--- "+o+": "+name+" (") {
				return o
			}
		}
	}
	return ""
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
