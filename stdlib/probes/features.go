package probes

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// FeatureSource says what the running kernel can attach. Each method
// returns nil when the feature is there, or a *MissingFeature saying what
// is missing.
type FeatureSource interface {
	// Kprobes: kprobe and kretprobe probes can be created.
	Kprobes() error
	// Tracing: fentry and fexit programs (BPF_PROG_TYPE_TRACING) load.
	Tracing() error
	// KprobeMulti: kprobe-multi links (one link for many functions).
	KprobeMulti() error
	// Hardware: the CPU's performance counters can sample the hardware
	// event (hardware probes).
	Hardware(ev perf.HardwareEvent) error
}

// MissingFeature is a kernel feature the running kernel lacks.
type MissingFeature struct {
	// What cannot be done: "attach kprobes", "load fentry programs".
	What string
	// Why, as precisely as the machine says: "CONFIG_KPROBES is not set".
	Why string
}

func (m *MissingFeature) Error() string {
	return fmt.Sprintf("this kernel cannot %s (%s)", m.What, m.Why)
}

// MachineFeatures probes the running kernel, once per feature.
type MachineFeatures struct {
	// Env finds tracefs (for kprobe_events).
	Env *Env
	// Config reads a kernel build option: "y", "m", "" (not set) and
	// whether it is known; nil reads /proc/config.gz or
	// /boot/config-RELEASE.
	Config func(option string) (value string, known bool)

	kprobesOnce, tracingOnce, multiOnce sync.Once
	kprobes, tracing, multi             error

	// hardware holds Hardware's answers, by event config.
	hardwareMu sync.Mutex
	hardware   map[uint64]error
}

// kprobePMU is where the kernel lists the kprobe PMU (Linux 4.17+), which
// creates kprobes with perf_event_open; kprobe_events in tracefs is the
// older way. A kernel without CONFIG_KPROBES has neither.
const kprobePMU = "/sys/bus/event_source/devices/kprobe/type"

// Kprobes implements FeatureSource.
func (m *MachineFeatures) Kprobes() error {
	m.kprobesOnce.Do(func() {
		if err := features.HaveProgramType(ebpf.Kprobe); errors.Is(err, ebpf.ErrNotSupported) {
			m.kprobes = &MissingFeature{What: "load kprobe programs", Why: m.why("CONFIG_BPF_EVENTS", "BPF_PROG_TYPE_KPROBE is not supported")}
			return
		}
		if _, err := os.Stat(kprobePMU); err == nil {
			return
		}
		if fs, err := m.tracefs(); err == nil && fs.HasKprobeEvents() {
			return
		}
		m.kprobes = &MissingFeature{What: "attach kprobes", Why: m.why("CONFIG_KPROBES",
			"there is no kprobe PMU in /sys/bus/event_source/devices and no kprobe_events in tracefs")}
	})
	return m.kprobes
}

func (m *MachineFeatures) tracefs() (*tracefs.FS, error) {
	if m.Env != nil {
		switch src := m.Env.Tracepoints.(type) {
		case *tracefs.FS:
			return src, nil
		case *listedTracepoints:
			return src.FS, nil
		}
	}
	return tracefs.Open()
}

// Tracing implements FeatureSource. The test is cilium/ebpf's: load an
// fentry program for a function every kernel's BTF has. Only a kernel
// that loads other tracing programs is blamed: if kprobe programs do not
// load either, the problem is privileges, which loading the script's own
// programs will report better.
func (m *MachineFeatures) Tracing() error {
	m.tracingOnce.Do(func() {
		err := features.HaveProgramType(ebpf.Tracing)
		if err == nil || features.HaveProgramType(ebpf.Kprobe) != nil {
			return
		}
		why := "loading a BPF_PROG_TYPE_TRACING program fails with " + errnoText(err)
		if errors.Is(err, ebpf.ErrNotSupported) {
			why = m.why("CONFIG_DEBUG_INFO_BTF", "BPF_PROG_TYPE_TRACING is not supported")
		}
		m.tracing = &MissingFeature{What: "load fentry/fexit programs", Why: why}
	})
	return m.tracing
}

// KprobeMulti implements FeatureSource.
func (m *MachineFeatures) KprobeMulti() error {
	m.multiOnce.Do(func() {
		if err := features.HaveBPFLinkKprobeMulti(); err != nil {
			m.multi = &MissingFeature{What: "create kprobe-multi links", Why: m.why("CONFIG_FPROBE", err.Error())}
		}
	})
	return m.multi
}

// noHardwareCounters is the MissingFeature.What of a machine whose CPUs
// count no hardware event at all, as opposed to one event they lack.
const noHardwareCounters = "count hardware events"

// Hardware implements FeatureSource. It opens the event, disabled, on one
// CPU, and closes it: only perf_event_open knows which events the CPU's
// counters have, and whether there are counters at all (most virtual
// machines have none, and there every hardware event fails with ENOENT).
// Errors that are not about the counters (privileges, limits) are left
// to attaching, which reports them with their context.
func (m *MachineFeatures) Hardware(ev perf.HardwareEvent) error {
	m.hardwareMu.Lock()
	defer m.hardwareMu.Unlock()
	if err, ok := m.hardware[ev.Config]; ok {
		return err
	}
	err := hardwareMissing(ev)
	if m.hardware == nil {
		m.hardware = map[uint64]error{}
	}
	m.hardware[ev.Config] = err
	return err
}

// hardwareMissing says why the CPU cannot sample ev, or returns nil.
func hardwareMissing(ev perf.HardwareEvent) error {
	var errno unix.Errno
	if err := perf.TryOpen(perf.HardwareSpec(ev, 0)); err == nil || !errors.As(err, &errno) {
		return nil
	}
	name := unix.ErrnoName(errno)
	switch errno {
	case unix.EOPNOTSUPP:
		return &MissingFeature{What: "sample hardware events",
			Why: "the CPU's performance counters do not interrupt on overflow: perf_event_open fails with " + name}
	case unix.ENOENT, unix.ENODEV:
	default:
		return nil
	}
	// A CPU that counts cycles has counters, just not this event; cycles
	// are opened counting, not sampling, which any counter can.
	cycles := perf.EventSpec{Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CPU_CYCLES}
	if ev.Config != cycles.Config && perf.TryOpen(cycles) == nil {
		return &MissingFeature{What: "count " + ev.Name,
			Why: "the CPU's performance counters have no such event: perf_event_open fails with " + name}
	}
	why := "no hardware performance counters: perf_event_open fails with " + name
	if noCPUPMU() {
		why += ", and /sys/bus/event_source/devices has no cpu PMU"
	}
	return &MissingFeature{What: noHardwareCounters, Why: why}
}

// eventSources is where the kernel lists its PMUs (perf event sources).
const eventSources = "/sys/bus/event_source/devices"

// noCPUPMU reports whether the kernel lists its PMUs and, on x86, has
// none for the CPU's counters ("cpu", or "cpu_core" and "cpu_atom" on
// hybrid CPUs). Other architectures name theirs after the CPU model, so
// nothing is said of them.
func noCPUPMU() bool {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" {
		return false
	}
	if _, err := os.Stat(eventSources); err != nil {
		return false
	}
	for _, name := range []string{"cpu", "cpu_core", "cpu_atom"} {
		if _, err := os.Stat(eventSources + "/" + name); err == nil {
			return false
		}
	}
	return true
}

// errnoText names the errno in err ("EPERM: operation not permitted"), or
// gives err's text.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) && unix.ErrnoName(errno) != "" {
		return unix.ErrnoName(errno) + ": " + errno.Error()
	}
	return err.Error()
}

// why explains a missing feature by the kernel option that is off, when
// the kernel's configuration says so, and by what was observed otherwise.
func (m *MachineFeatures) why(option, observed string) string {
	config := m.Config
	if config == nil {
		config = kernelConfig
	}
	if v, known := config(option); known && v == "" {
		return option + " is not set"
	}
	return observed
}

// kernelConfig reads one option of the running kernel's configuration from
// /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-RELEASE.
func kernelConfig(option string) (string, bool) {
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if zr, err := gzip.NewReader(f); err == nil {
			r = zr
		}
	}
	if r == nil {
		var uts unix.Utsname
		if unix.Uname(&uts) != nil {
			return "", false
		}
		f, err := os.Open("/boot/config-" + unix.ByteSliceToString(uts.Release[:]))
		if err != nil {
			return "", false
		}
		defer f.Close()
		r = f
	}
	return configValue(r, option)
}

// configValue finds option in a kernel .config: "CONFIG_X=y" gives "y",
// "# CONFIG_X is not set" and absence give "".
func configValue(r io.Reader, option string) (string, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, option+"="); ok {
			return strings.Trim(v, `"`), true
		}
		if line == "# "+option+" is not set" {
			return "", true
		}
	}
	return "", sc.Err() == nil
}
