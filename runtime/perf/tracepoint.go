package perf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// TracepointLink is a program attached to a tracepoint by AttachTracepoint:
// its BPF link. The link holds the perf event, whose descriptor is closed
// once the link is made (the kernel frees the event when the link goes):
// one descriptor per probe rather than two, which matters for scripts
// that attach thousands of tracepoints, and for tools that look through a
// process's descriptors.
type TracepointLink struct {
	link int
}

// AttachTracepoint attaches prog, a tracepoint program, to the tracepoint
// whose ID (events/CATEGORY/NAME/id) is id, with a BPF link that gives the
// program cookie (bpf_get_attach_cookie). It opens the perf event as
// cilium/ebpf's link.Tracepoint does (every task, CPU 0, one sample per
// event), for callers that know the ID from the tracepoint's format: that
// saves reading the id file again for every probe, and the program loads
// cilium/ebpf runs the first time to find out whether the kernel has perf
// links; together a good part of a millisecond of start-up for ten probes.
//
// It only uses BPF links, which kernels have from 5.15 on, and does not
// try on older ones. On any error nothing stays open, and the caller can
// attach with link.Tracepoint, which falls back to the
// PERF_EVENT_IOC_SET_BPF ioctl and whose errors say more.
func AttachTracepoint(id uint64, prog *ebpf.Program, cookie uint64) (*TracepointLink, error) {
	if !RunningKernelAtLeast(5, 15) {
		return nil, errors.New("perf: this kernel has no BPF links for perf events (Linux 5.15)")
	}
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      id,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
	}
	event, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("perf_event_open: %w", err)
	}
	link, err := linkCreatePerfEvent(prog.FD(), event, cookie)
	unix.Close(event)
	if err != nil {
		return nil, fmt.Errorf("creating a BPF link: %w", err)
	}
	return &TracepointLink{link: link}, nil
}

// linkCreateAttr is the perf_event member of union bpf_attr for
// BPF_LINK_CREATE, padded as cilium/ebpf pads it: the kernel checks that
// the bytes it does not know are zero.
type linkCreateAttr struct {
	progFD, targetFD, attachType, flags uint32
	cookie                              uint64
	_                                   [40]byte
}

// linkCreatePerfEvent makes a BPF link from a program to a perf event.
// (cilium/ebpf has no public call for a perf event link with a cookie.)
func linkCreatePerfEvent(prog, event int, cookie uint64) (int, error) {
	attr := linkCreateAttr{progFD: uint32(prog), targetFD: uint32(event), attachType: unix.BPF_PERF_EVENT, cookie: cookie}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_LINK_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	// The kernel opens links close-on-exec.
	return int(fd), nil
}

// Close detaches the program and frees the perf event: it closes the
// link. It may be called more than once.
func (l *TracepointLink) Close() error {
	if l.link < 0 {
		return nil
	}
	err := unix.Close(l.link)
	l.link = -1
	if err != nil {
		return fmt.Errorf("closing BPF link: %w", err)
	}
	return nil
}

// RunningKernelAtLeast reports whether the running kernel's release
// (uname -r) is major.minor or later. A release it cannot read counts as
// older.
func RunningKernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return ReleaseAtLeast(unix.ByteSliceToString(u.Release[:]), major, minor)
}

// ReleaseAtLeast reports whether a kernel release ("6.1.0-13-amd64") is
// major.minor or later. A release it cannot read counts as older.
func ReleaseAtLeast(release string, major, minor int) bool {
	ma, rest, _ := strings.Cut(release, ".")
	mi := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		mi = rest[:i]
	}
	a, err1 := strconv.Atoi(ma)
	b, err2 := strconv.Atoi(mi)
	if err1 != nil || err2 != nil {
		return false
	}
	return a > major || a == major && b >= minor
}
