package kerneltest

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Kernel features that tests of kernel function probes need. They are
// probed here directly rather than through gotrace's own detection, which
// some of the tests check.
const (
	// Kprobe: kprobes and kretprobes can be created (a kprobe PMU or
	// tracefs's kprobe_events; CONFIG_KPROBES).
	Kprobe = "kprobe"
	// Fentry: fentry and fexit programs (BPF_PROG_TYPE_TRACING) load.
	Fentry = "fentry"
	// KprobeMulti: kprobe-multi links can be created (CONFIG_FPROBE).
	KprobeMulti = "kprobe_multi"
	// Hardware: the CPU has performance counters (a counting cpu-cycles
	// perf event opens); most virtual machines have none.
	Hardware = "hardware"
)

// HasFeature returns nil if the running kernel has the feature, or an
// error saying why not.
func HasFeature(feature string) error {
	switch feature {
	case Kprobe:
		if _, err := os.Stat("/sys/bus/event_source/devices/kprobe/type"); err == nil {
			return nil
		}
		for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
			if _, err := os.Stat(dir + "/kprobe_events"); err == nil {
				return nil
			}
		}
		return errors.New("no kprobe PMU and no kprobe_events: the kernel has no kprobes")
	case Fentry:
		if err := features.HaveProgramType(ebpf.Tracing); err != nil {
			return fmt.Errorf("fentry programs do not load: %w", err)
		}
		return nil
	case KprobeMulti:
		return features.HaveBPFLinkKprobeMulti()
	case Hardware:
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CPU_CYCLES, Bits: unix.PerfBitDisabled}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return fmt.Errorf("no CPU performance counters: perf_event_open(cpu-cycles): %w", err)
		}
		return unix.Close(fd)
	}
	return fmt.Errorf("unknown kernel feature %q", feature)
}

// Has skips t, or fails it under GOTRACE_REQUIRE_KERNEL=1, unless the
// running kernel has the feature (Kprobe, Fentry, KprobeMulti, Hardware). Tests that
// run kernel function probes for real start with it: they run where the
// kernel has the feature (the VM suite boots one that does), and a kernel
// without it is the business of the tests of gotrace's missing-feature
// error.
func Has(t testing.TB, feature string) {
	t.Helper()
	Require(t)
	if err := HasFeature(feature); err != nil {
		SkipOrFail(t, "the kernel lacks %s: %v", feature, err)
	}
}
