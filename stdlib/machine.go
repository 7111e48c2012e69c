package stdlib

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kallsyms"
)

// machine is what some entries need to know about the machine, both when a
// script is compiled (kaddr() resolves a symbol) and when values are printed
// (ksym() names an address, username a uid). Everything is read lazily, on
// first use, so that scripts that need none of it start as fast as others.
type machine struct {
	syms     *kallsyms.Table // nil until read
	symsRead bool
	users    map[uint32]string
	bootWall time.Time // the wall-clock time of CLOCK_MONOTONIC's zero
	bootRead bool
	cgroups  cgroupTree // for cgroup_path()
}

// kallsyms reads /proc/kallsyms once. A machine whose table cannot be read
// names no address (the nil table answers nothing).
func (m *machine) kallsyms() *kallsyms.Table {
	if !m.symsRead {
		m.symsRead = true
		m.syms, _ = kallsyms.Read()
	}
	return m.syms
}

// rereadKallsyms reads /proc/kallsyms again, for the symbols of BPF
// programs and trampolines loaded since it was read.
func (m *machine) rereadKallsyms() {
	m.symsRead = true
	m.syms, _ = kallsyms.Read()
}

// symbolAt names the kernel symbol containing addr, or "" if none.
func (m *machine) symbolAt(addr uint64) string {
	s, _, ok := m.kallsyms().At(addr)
	if !ok {
		return ""
	}
	return s.Name
}

// symbolAddr finds a kernel symbol's address.
func (m *machine) symbolAddr(name string) (uint64, bool) {
	syms := m.kallsyms().Lookup(name)
	if len(syms) == 0 {
		return 0, false
	}
	return syms[0].Addr, true
}

// userName maps a uid to its name from /etc/passwd.
func (m *machine) userName(uid uint32) string {
	if m.users == nil {
		m.users = map[uint32]string{}
		if b, err := os.ReadFile("/etc/passwd"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Split(line, ":")
				if len(f) < 3 {
					continue
				}
				if id, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					m.users[uint32(id)] = f[0]
				}
			}
		}
	}
	if n, ok := m.users[uid]; ok {
		return n
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// wallTime converts nanoseconds of CLOCK_MONOTONIC (what nsecs reads) to
// wall-clock time.
func (m *machine) wallTime(ns uint64) time.Time {
	if !m.bootRead {
		m.bootRead = true
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		m.bootWall = time.Now().Add(-time.Duration(ts.Nano()))
	}
	return m.bootWall.Add(time.Duration(ns))
}
