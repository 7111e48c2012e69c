package perf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Attachment is a BPF program attached to a set of perf events, one per CPU.
// Its Close method detaches the program and closes the events.
type Attachment struct {
	events []event
}

// event is one opened perf event and, if a BPF link attached the program,
// that link.
type event struct {
	cpu  int // -1 for an event that follows a thread (tid) on any CPU
	tid  int // 0 for an event of every task on one CPU
	fd   int
	link *link.RawLink // nil when attached with PERF_EVENT_IOC_SET_BPF
}

// attachMode chooses how programs are attached to perf events.
type attachMode int

const (
	// modeAuto uses a BPF link (Linux 5.15+) and falls back to the ioctl.
	modeAuto attachMode = iota
	// modeIoctl always uses PERF_EVENT_IOC_SET_BPF; for tests of the
	// fallback on kernels that have links.
	modeIoctl
)

// Attach opens a perf event for spec on each of spec.CPUs (all online CPUs if
// nil), with pid -1 so it covers every task there (or spec.PID), and
// attaches prog to each. With spec.PID and spec.Threads it opens one event
// per thread of the process instead, on any CPU.
// prog must be of type ebpf.PerfEvent (or ebpf.TracePoint for
// PERF_TYPE_TRACEPOINT events). On error nothing stays open.
func Attach(spec EventSpec, prog *ebpf.Program) (*Attachment, error) {
	return attach(spec, prog, modeAuto)
}

func attach(spec EventSpec, prog *ebpf.Program, mode attachMode) (*Attachment, error) {
	if prog == nil {
		return nil, errors.New("perf: attaching a nil program")
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if err := checkProgramType(spec, prog); err != nil {
		return nil, err
	}
	if spec.PID != 0 && spec.Threads {
		return attachThreads(spec, prog, mode)
	}
	cpus := spec.CPUs
	if cpus == nil {
		var err error
		if cpus, err = OnlineCPUs(); err != nil {
			return nil, err
		}
	}
	a := &Attachment{events: make([]event, 0, len(cpus))}
	for _, cpu := range cpus {
		ev, err := attachOne(spec, prog, 0, cpu, &mode)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("perf event %v: CPU %d: %w", spec, cpu, err)
		}
		a.events = append(a.events, ev)
	}
	return a, nil
}

// checkProgramType rejects programs the kernel would refuse with a bare
// EINVAL: software and hardware events run ebpf.PerfEvent programs, and
// tracepoint events ebpf.TracePoint programs. Other (dynamic PMU) types are
// left to the kernel.
func checkProgramType(spec EventSpec, prog *ebpf.Program) error {
	var want ebpf.ProgramType
	switch spec.Type {
	case unix.PERF_TYPE_SOFTWARE, unix.PERF_TYPE_HARDWARE, unix.PERF_TYPE_HW_CACHE, unix.PERF_TYPE_RAW, unix.PERF_TYPE_BREAKPOINT:
		want = ebpf.PerfEvent
	case unix.PERF_TYPE_TRACEPOINT:
		want = ebpf.TracePoint
	default:
		return nil
	}
	if prog.Type() != want {
		return fmt.Errorf("perf event %v needs a program of type %v, not %v", spec, want, prog.Type())
	}
	return nil
}

// attachOne opens the event on one CPU (every task there, or spec.PID's),
// or with tid for one thread on any CPU (cpu -1), and attaches prog. If BPF
// links turn out to be unsupported it switches *mode to the ioctl for the
// other events.
func attachOne(spec EventSpec, prog *ebpf.Program, tid, cpu int, mode *attachMode) (event, error) {
	fd, err := openEvent(spec, tid, cpu)
	if err != nil {
		return event{}, err
	}
	ev := event{cpu: cpu, tid: tid, fd: fd}
	fail := func(err error) (event, error) {
		_ = ev.close()
		return event{}, err
	}

	var linkErr error
	if *mode == modeAuto {
		l, err := link.AttachRawLink(link.RawLinkOptions{
			Target:  fd,
			Program: prog,
			Attach:  ebpf.AttachPerfEvent,
		})
		switch {
		case err == nil:
			ev.link = l
		case linkUnsupported(err):
			linkErr = err
		default:
			return fail(fmt.Errorf("attaching BPF program with a link: %w", err))
		}
	}
	if ev.link == nil {
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
			err = fmt.Errorf("attaching BPF program (PERF_EVENT_IOC_SET_BPF): %w", err)
			if linkErr != nil {
				err = fmt.Errorf("%w (after a BPF link failed: %v)", err, linkErr)
			}
			return fail(err)
		}
		if linkErr != nil {
			// Links are unsupported; don't try them on other CPUs.
			*mode = modeIoctl
		}
	}
	// Opened disabled, so nothing fires before the program is in place.
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		return fail(fmt.Errorf("enabling perf event: %w", err))
	}
	return ev, nil
}

// linkUnsupported reports whether err means the kernel cannot attach BPF
// programs to perf events with links: before 5.7 there is no BPF_LINK_CREATE
// (cilium/ebpf reports ErrNotSupported); before 5.15 it rejects the
// BPF_PERF_EVENT attach type with EINVAL.
func linkUnsupported(err error) bool {
	return errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL)
}

// openEvent calls perf_event_open(2) for spec on one CPU, for every task
// (pid -1) or for spec.PID and its future children, or with tid for that
// thread and its future children; disabled.
func openEvent(spec EventSpec, tid, cpu int) (int, error) {
	attr := eventAttr(spec)
	pid := -1
	switch {
	case tid != 0:
		pid = tid
	case spec.PID != 0:
		pid = spec.PID
	}
	if pid != -1 {
		attr.Bits |= unix.PerfBitInherit
	}
	fd, err := unix.PerfEventOpen(&attr, pid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("perf_event_open: %w%s", err, openHint(spec, cpu, err))
	}
	return fd, nil
}

// eventAttr is the perf_event_attr of spec's event, opened disabled,
// sampling every Period events or at Frequency (neither: a counting event).
func eventAttr(spec EventSpec) unix.PerfEventAttr {
	attr := unix.PerfEventAttr{
		Type:   spec.Type,
		Config: spec.Config,
		Bits:   unix.PerfBitDisabled,
		Sample: spec.Period,
	}
	if spec.Frequency != 0 {
		attr.Bits |= unix.PerfBitFreq
		attr.Sample = spec.Frequency
	}
	if bp := spec.Breakpoint; bp != nil {
		attr.Bp_type = bp.Access
		attr.Ext1 = bp.Addr // bp_addr shares its place with config1
		attr.Ext2 = bp.Len  // and bp_len with config2
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	return attr
}

// openHint explains the usual reasons for perf_event_open failures.
func openHint(spec EventSpec, cpu int, err error) string {
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return " (needs root or CAP_PERFMON; see /proc/sys/kernel/perf_event_paranoid)"
	}
	if spec.Breakpoint != nil {
		if hint := breakpointHint(err); hint != "" {
			return hint
		}
	}
	if cpu < 0 {
		return ""
	}
	if online, oerr := OnlineCPUs(); oerr == nil && !slices.Contains(online, cpu) {
		return fmt.Sprintf(" (CPU %d is not online; online CPUs: %v)", cpu, online)
	}
	switch {
	case errors.Is(err, unix.EINVAL) && spec.Frequency != 0:
		b, rerr := os.ReadFile("/proc/sys/kernel/perf_event_max_sample_rate")
		if rerr != nil {
			break
		}
		maxRate, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr == nil && spec.Frequency > maxRate {
			return fmt.Sprintf(" (frequency %d Hz exceeds kernel.perf_event_max_sample_rate = %d)", spec.Frequency, maxRate)
		}
	case spec.Type == unix.PERF_TYPE_HARDWARE && errors.Is(err, unix.ENOENT):
		return " (the CPU has no performance counter for this event, or none at all)"
	case spec.Type == unix.PERF_TYPE_HARDWARE && errors.Is(err, unix.EOPNOTSUPP):
		return " (the CPU's performance counters cannot sample: they do not interrupt on overflow)"
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP):
		return " (event not supported by this kernel)"
	}
	return ""
}

// Close detaches the program from every event and closes them. It may be
// called more than once.
func (a *Attachment) Close() error {
	var errs []error
	for i := range a.events {
		if err := a.events[i].close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.events[i].where(), err))
		}
	}
	a.events = nil
	return errors.Join(errs...)
}

// close closes the link (detaching the program) and then the event. With
// the ioctl the program is detached when the event's last reference closes.
func (ev *event) close() error {
	var errs []error
	if ev.link != nil {
		if err := ev.link.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing BPF link: %w", err))
		}
		ev.link = nil
	}
	if ev.fd >= 0 {
		if err := unix.Close(ev.fd); err != nil {
			errs = append(errs, fmt.Errorf("closing perf event: %w", err))
		}
		ev.fd = -1
	}
	return errors.Join(errs...)
}

// where names the CPU or the thread of an event, for messages.
func (ev *event) where() string {
	if ev.tid != 0 {
		return fmt.Sprintf("thread %d", ev.tid)
	}
	return fmt.Sprintf("CPU %d", ev.cpu)
}

// CPUs returns the CPUs the program is attached on (-1, any CPU, for each
// event that follows a thread).
func (a *Attachment) CPUs() []int {
	out := make([]int, len(a.events))
	for i, ev := range a.events {
		out[i] = ev.cpu
	}
	return out
}

// Threads returns the threads the program is attached to, one per event,
// when it follows threads (EventSpec.Threads); nil otherwise.
func (a *Attachment) Threads() []int {
	var out []int
	for _, ev := range a.events {
		if ev.tid != 0 {
			out = append(out, ev.tid)
		}
	}
	return out
}

// UsesLinks reports whether the program was attached with BPF links (Linux
// 5.15+) rather than the PERF_EVENT_IOC_SET_BPF ioctl.
func (a *Attachment) UsesLinks() bool {
	return len(a.events) > 0 && a.events[0].link != nil
}
