package runtime_test

// Kernel function probes (kprobe, kretprobe, fentry, fexit) against a
// workload. TestKprobes and TestFentry run them for real where the kernel
// has the feature; on a kernel without it (such as one built without
// CONFIG_KPROBES) they check instead that gotrace refuses with the exact
// one-line error, having run nothing.
//
// The for-real halves, KprobesForReal and FentryForReal, begin with
// kerneltest.Has, so that the VM suite (runtime/vmtest, which boots a
// kernel that has kprobes and fentry) can run them under
// GOTRACE_REQUIRE_KERNEL=1 and fail if the feature is missing there:
//
//	func TestVMKprobes(t *testing.T) {
//		if !vmtest.InVM(t) {
//			return
//		}
//		KprobesForReal(t)
//	}

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// threadMarker makes kernel function probes see the workload's steps only:
// the Go runtime's own threads in the workload process call kernel
// functions too (sysmon sleeps with nanosleep), so the probes filter by
// tid, and the thread that runs the steps marks its tid by calling
// getppid first ("getppid 1; ..."). END clears the marks so that the tid
// does not print.
const threadMarker = `tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @me[tid] = 1; }
END { clear(@me); }
`

// kfuncCase is a script run against a workload, with its exact output (the
// maps after the end-of-run blank lines) or, for stacks, a pattern.
type kfuncCase struct {
	name, script string
	workload     kerneltest.Workload
	want         string
	wantRe       string
}

func runKfuncCases(t *testing.T, cases []kfuncCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, _ := runScript(t, c.name+".gt", threadMarker+c.script, nil, c.workload, 30*time.Second)
			switch {
			case c.wantRe != "":
				if !regexp.MustCompile(c.wantRe).MatchString(out) {
					t.Errorf("output %q does not match %s", out, c.wantRe)
				}
			case out != "\n\n"+c.want:
				t.Errorf("output differs\n--- got\n%s\n--- want\n%s", out, "\n\n"+c.want)
			}
		})
	}
}

// readTarget makes the file the read workloads read: 10 bytes, read 64
// bytes at a time.
func readTarget(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "gotrace-kfunc-test")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestKprobes(t *testing.T) {
	kerneltest.Require(t)
	if err := kerneltest.HasFeature(kerneltest.Kprobe); err != nil {
		why := "there is no kprobe PMU in /sys/bus/event_source/devices and no kprobe_events in tracefs"
		if kernelOptionNotSet("CONFIG_KPROBES") {
			why = "CONFIG_KPROBES is not set"
		}
		checkMissingFeature(t, []missingCase{
			{"kprobe", `kprobe:hrtimer_nanosleep { @ = count(); }`,
				"kprobe:hrtimer_nanosleep: this kernel cannot attach kprobes (" + why + "); tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:*nanosleep*'"},
			{"kretprobe", `kretprobe:vfs_read { @ = count(); }`,
				"kretprobe:vfs_read: this kernel cannot attach kretprobes (" + why + "); tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:*read*'"},
			{"alias and wildcard", `k:tcp_* { @ = count(); }`,
				"k:tcp_*: this kernel cannot attach kprobes (" + why + "); tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:*tcp*'"},
		})
		return
	}
	KprobesForReal(t)
}

// KprobesForReal runs kprobes and kretprobes against workloads.
func KprobesForReal(t *testing.T) {
	kerneltest.Has(t, kerneltest.Kprobe)
	file := readTarget(t)
	read3 := kerneltest.Workload("getppid 1; read 3 " + file)
	runKfuncCases(t, []kfuncCase{
		// hrtimer_nanosleep(ktime_t rqtp, mode, clockid): arg0 is the
		// requested time in nanoseconds.
		{name: "argN", script: `kprobe:hrtimer_nanosleep /@me[tid]/ { @[arg0] = count(); }`,
			workload: "getppid 1; nanosleep 7; nanosleep 3; nanosleep 3",
			want:     "@[7000000]: 1\n@[3000000]: 2\n"},
		{name: "kretprobe retval and func", script: `kretprobe:hrtimer_nanosleep /@me[tid]/ { @[func, retval] = count(); }`,
			workload: "getppid 1; nanosleep 2; nanosleep 2",
			want:     "@[hrtimer_nanosleep, 0]: 2\n"},
		// The two probes share one program (probe and func come from the
		// attach cookie), attached with one kprobe-multi link where the
		// kernel has them.
		{name: "probe and func of several functions", script: `kprobe:ksys_read, kprobe:vfs_read /@me[tid]/ { @[probe, func] = count(); }`,
			workload: read3,
			want:     "@[kprobe:ksys_read, ksys_read]: 3\n@[kprobe:vfs_read, vfs_read]: 3\n"},
		{name: "kretprobe of several functions", script: `kr:ksys_read, kr:vfs_read /@me[tid]/ { @[func, retval] = count(); }`,
			workload: read3,
			want:     "@[ksys_read, 10]: 3\n@[vfs_read, 10]: 3\n"},
		{name: "struct through a cast argument", script: `kprobe:vfs_read /@me[tid]/ { @[str(((struct file *)arg0)->f_path.dentry->d_name.name), arg2] = count(); }`,
			workload: read3,
			want:     "@[gotrace-kfunc-test, 64]: 3\n"},
		{name: "wildcard", script: `kprobe:ksys_rea? /@me[tid]/ { @[probe] = count(); }`,
			workload: read3,
			want:     "@[kprobe:ksys_read]: 3\n"},
		{name: "offset", script: `kprobe:vfs_read+0 /@me[tid]/ { @[probe, func] = count(); }`,
			workload: read3,
			want:     "@[kprobe:vfs_read+0, vfs_read]: 3\n"},
		{name: "kstack", script: `kprobe:ksys_read /@me[tid]/ { @[kstack(2)] = count(); }`,
			workload: read3,
			wantRe:   `^\n\n@\[\n    ksys_read\+[0-9]+\n    [A-Za-z0-9_.]+\+[0-9]+\n\]: 3\n$`},
	})
}

func TestFentry(t *testing.T) {
	kerneltest.Require(t)
	if err := kerneltest.HasFeature(kerneltest.Fentry); err != nil {
		why := "BPF_PROG_TYPE_TRACING is not supported"
		if err := features.HaveProgramType(ebpf.Tracing); !errors.Is(err, ebpf.ErrNotSupported) {
			var errno unix.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("fentry programs do not load, but not for an errno: %v", err)
			}
			why = "loading a BPF_PROG_TYPE_TRACING program fails with " + unix.ErrnoName(errno) + ": " + errno.Error()
		}
		instead := func(kprobe, fn string) string {
			if kerneltest.HasFeature(kerneltest.Kprobe) == nil {
				return "kprobes work: try " + kprobe
			}
			return "tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:*" + fn + "*'"
		}
		checkMissingFeature(t, []missingCase{
			{"fentry", `fentry:vfs_read { @ = count(); }`,
				"fentry:vfs_read: this kernel cannot load fentry/fexit programs (" + why + "); " + instead("kprobe:vfs_read", "read")},
			{"fexit", `fexit:hrtimer_nanosleep { @ = count(); }`,
				"fexit:hrtimer_nanosleep: this kernel cannot load fentry/fexit programs (" + why + "); " + instead("kretprobe:hrtimer_nanosleep", "nanosleep")},
			{"kfunc alias", `kfunc:vfs_read { @ = count(); }`,
				"kfunc:vfs_read: this kernel cannot load fentry/fexit programs (" + why + "); " + instead("kprobe:vfs_read", "read")},
		})
		return
	}
	FentryForReal(t)
}

// FentryForReal runs fentry and fexit against workloads.
func FentryForReal(t *testing.T) {
	kerneltest.Has(t, kerneltest.Fentry)
	file := readTarget(t)
	read3 := kerneltest.Workload("getppid 1; read 3 " + file)
	runKfuncCases(t, []kfuncCase{
		// nanosleep(2) sleeps on CLOCK_MONOTONIC (1).
		{name: "typed args", script: `fentry:hrtimer_nanosleep /@me[tid]/ { @[args.rqtp, args.clockid] = count(); }`,
			workload: "getppid 1; nanosleep 7",
			want:     "@[7000000, 1]: 1\n"},
		{name: "struct through a pointer argument", script: `fentry:vfs_read /@me[tid]/ { @[str(args.file->f_path.dentry->d_name.name), args.count] = count(); }`,
			workload: read3,
			want:     "@[gotrace-kfunc-test, 64]: 3\n"},
		{name: "fexit retval and args", script: `fexit:vfs_read /@me[tid]/ { @[retval, args.count, func] = count(); }`,
			workload: read3,
			want:     "@[10, 64, vfs_read]: 3\n"},
		{name: "probe and func of several functions", script: `f:ksys_read, kfunc:vfs_read /@me[tid]/ { @[probe, func] = count(); }`,
			workload: read3,
			want:     "@[fentry:ksys_read, ksys_read]: 3\n@[fentry:vfs_read, vfs_read]: 3\n"},
		{name: "pointer arithmetic on an argument", script: `fentry:vfs_read /@me[tid]/ { @[(args.buf & 0) + args.count] = count(); }`,
			workload: read3,
			want:     "@[64]: 3\n"},
		// The stack passes through the program and its trampoline, whose
		// symbols exist only while they are loaded and attached: the maps
		// print after the probes are detached.
		{name: "kstack", script: `fentry:vfs_read /@me[tid]/ { @[kstack(3)] = count(); }`,
			workload: read3,
			wantRe:   `^\n\n@\[\n    bpf_prog_[0-9a-f]{16}_[A-Za-z0-9_]+\+[0-9]+\n    bpf_trampoline_[0-9]+\+[0-9]+\n    vfs_read\+[0-9]+\n\]: 3\n$`},
	})
}

// missingCase is a script whose probes the kernel cannot attach, and the
// error Run must return.
type missingCase struct {
	name, probe, err string
}

// checkMissingFeature runs each script after a BEGIN that prints: Run must
// fail with exactly the error, status 1, before BEGIN ran (nothing
// printed), so that nothing was loaded or attached. The command's tests
// check the same through the binary, with the BPF objects it leaves.
func checkMissingFeature(t *testing.T, cases []missingCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := runtime.Compile(c.name+".gt", `BEGIN { printf("begin\n"); } `+c.probe, runtime.CompileOptions{})
			if err != nil {
				t.Fatalf("compile: %v (a missing kernel feature must not be a compile error)", err)
			}
			var stdout, stderr strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			status, err := s.Run(ctx, runtime.RunOptions{Stdout: &stdout, Stderr: &stderr})
			if err == nil || err.Error() != c.err || status != 1 || stdout.String() != "" || stderr.String() != "" {
				t.Errorf("got status %d, error %v, stdout %q, stderr %q\nwant status 1, error %s, no output", status, err, stdout.String(), stderr.String(), c.err)
			}
		})
	}
}

// kernelOptionNotSet reports whether the running kernel's configuration
// (/proc/config.gz) says "# OPTION is not set".
func kernelOptionNotSet(option string) bool {
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if sc.Text() == "# "+option+" is not set" {
			return true
		}
	}
	return false
}
