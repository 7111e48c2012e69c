package main

import (
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestHardwareProbes runs a hardware probe script through the command.
// --verify loads its programs anywhere (as it does kprobe programs on a
// kernel without kprobes). Where the CPU has no performance counters (the
// development machine, most VMs) a run and --dry-run fail, status 1, with
// one line naming the probe and what the machine lacks, having printed
// nothing else (BEGIN did not run) and left nothing in the kernel; where
// it has counters they run.
func TestHardwareProbes(t *testing.T) {
	kerneltest.Require(t)
	marker := fmt.Sprintf("hard%08x", rand.Uint32())
	script := fmt.Sprintf(`BEGIN { printf("begin\n"); @%s = count(); }
h:instructions:1e6 { @%s = count(); @[cpu, comm, probe, kstack] = count(); exit(); }`, marker, marker)

	gotrace(t, "", "--verify", "-e", script).check(t, "", "Verified 2 programs\n", 0)
	waitUnloaded(t, "programs using map gt_"+marker, func() bpfObjects { return markedObjects(t, "gt_"+marker) })

	if err := kerneltest.HasFeature(kerneltest.Hardware); err == nil {
		r := gotrace(t, "", "-e", script)
		if r.status != 0 || !strings.HasPrefix(r.stdout, "begin\n") || !strings.Contains(r.stdout, ", hardware:instructions:1000000, ") {
			t.Errorf("got stdout %q, stderr %q, status %d", r.stdout, r.stderr, r.status)
		}
		return
	}
	why := "no hardware performance counters: perf_event_open fails with ENOENT"
	if goruntime.GOARCH == "amd64" || goruntime.GOARCH == "386" {
		why += ", and /sys/bus/event_source/devices has no cpu PMU"
	}
	want := "gotrace: error: h:instructions:1e6: this kernel cannot count hardware events (" + why + "); software events work: gotrace -l 'software:*'\n"
	for _, args := range [][]string{{"-e", script}, {"--dry-run", "-e", script}} {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			gotrace(t, "", args...).check(t, "", want, 1)
			waitUnloaded(t, "programs using map gt_"+marker, func() bpfObjects { return markedObjects(t, "gt_"+marker) })
		})
	}
}
