package main

// Kernel function probes through the command. On a kernel without kprobes
// (or fentry) TestKernelFunctionProbes checks the one-line error, the exit
// status and that nothing was left in the kernel; where the kernel has
// them it runs them, for real, through KernelFunctionProbesForReal, which
// the VM suite (runtime/vmtest) can also call:
//
//	func TestVMKernelFunctionProbesCLI(t *testing.T) {
//		if !vmtest.InVM(t) {
//			return
//		}
//		KernelFunctionProbesForReal(t, kerneltest.Kprobe)
//	}

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// kfuncProbe is, per feature, the probes a test script attaches and the
// provider names -l is asked about.
var kfuncProbe = map[string]struct {
	attach []string // probes of the feature, one script each
	list   []string // -l patterns naming the feature's providers
}{
	kerneltest.Kprobe: {
		attach: []string{"kprobe:vfs_read", "kretprobe:vfs_read", "k:tcp_*"},
		list:   []string{"kprobe:tcp_*", "kr:vfs_read"},
	},
	kerneltest.Fentry: {
		attach: []string{"fentry:vfs_read", "fexit:vfs_read", "f:tcp_*"},
		list:   []string{"fentry:tcp_*"},
	},
}

func TestKernelFunctionProbes(t *testing.T) {
	kerneltest.Require(t)
	for _, feature := range []string{kerneltest.Kprobe, kerneltest.Fentry} {
		t.Run(feature, func(t *testing.T) {
			if kerneltest.HasFeature(feature) == nil {
				KernelFunctionProbesForReal(t, feature)
				return
			}
			checkMissingFeature(t, feature)
		})
	}
}

// missingFeatureError matches gotrace's error for a probe the kernel
// cannot attach: the attach point as written, what cannot be done and why,
// and what works instead.
var missingFeatureError = regexp.MustCompile(`^gotrace: error: ([a-z]+:[a-z_*:]+): this kernel cannot (attach kprobes|attach kretprobes|load fentry/fexit programs) \([^\n]+\); (tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:\*[a-z]+\*'|kprobes work: try kprobe:[a-z_*]+|kretprobes work: try kretprobe:[a-z_*]+)\n$`)

// checkMissingFeature runs scripts whose probes need the missing feature:
// gotrace must exit 1 with one line naming the probe, having printed
// nothing else (BEGIN did not run) and left no BPF object behind. The
// exact wording is checked by the runtime's tests; here, its shape.
func checkMissingFeature(t *testing.T, feature string) {
	marker := fmt.Sprintf("missing%08x", rand.Uint32())
	for _, attach := range kfuncProbe[feature].attach {
		t.Run(attach, func(t *testing.T) {
			script := fmt.Sprintf("BEGIN { printf(\"begin\\n\"); @%s = count(); }\n%s { @%s = count(); }\n", marker, attach, marker)
			r := gotrace(t, "", "-e", script)
			m := missingFeatureError.FindStringSubmatch(r.stderr)
			if r.stdout != "" || m == nil || m[1] != attach || r.status != 1 {
				t.Errorf("got stdout %q, stderr %q, status %d; want no output, the missing-feature error for %s, status 1", r.stdout, r.stderr, r.status, attach)
			}
			waitUnloaded(t, "programs using map gt_"+marker, func() bpfObjects { return markedObjects(t, "gt_"+marker) })
		})
	}
	for _, pattern := range kfuncProbe[feature].list {
		t.Run("-l "+pattern, func(t *testing.T) {
			r := gotrace(t, "", "-l", pattern)
			if r.stdout != "" || !missingFeatureError.MatchString(r.stderr) || r.status != 1 {
				t.Errorf("got stdout %q, stderr %q, status %d; want no output, the missing-feature error, status 1", r.stdout, r.stderr, r.status)
			}
		})
	}
}

// KernelFunctionProbesForReal runs a kprobe (or fentry) script through the
// command against a workload, stops it with SIGINT, and checks its output
// and that nothing it created is left in the kernel; and lists the probes.
func KernelFunctionProbesForReal(t *testing.T, feature string) {
	kerneltest.Has(t, feature)
	file := filepath.Join(t.TempDir(), "gotrace-cli-kfunc")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	probe, field := "kprobe:vfs_read", "arg2"
	args := "kprobe:vfs_read\n"
	if feature == kerneltest.Fentry {
		probe, field = "fentry:vfs_read", "args.count"
		args = "fentry:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n"
	}
	// The workload's first getppid marks the thread whose reads count
	// (see runtime's kfunc tests).
	script := kerneltest.Script(fmt.Sprintf(`tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @me[tid] = 1; }
%s /@me[tid]/ { @[func, %s] = count(); }
END { clear(@me); }`, probe, field))
	r := startGotrace(t, "-e", script)
	held, err := heldBy(r.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerneltest.Workload("getppid 1; read 4 " + file).Run(); err != nil {
		t.Fatal(err)
	}
	r.stop(syscall.SIGINT).check(t, "\n\n@[vfs_read, 64]: 4\n", "Attached 3 probes\n", 0)
	waitUnloaded(t, "BPF objects of the run", func() bpfObjects { return stillLoaded(t, held) })

	glob := probe[:len(probe)-1] + "?" // vfs_rea?: no vfs_readv
	gotrace(t, "", "-lv", glob).check(t, args, "", 0)
}
