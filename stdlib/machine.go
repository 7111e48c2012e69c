package stdlib

import (
	"bufio"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// machine is what some entries need to know about the machine, both when a
// script is compiled (kaddr() resolves a symbol) and when values are printed
// (ksym() names an address, username a uid). Everything is read lazily, on
// first use, so that scripts that need none of it start as fast as others.
type machine struct {
	syms     []kernelSymbol // sorted by address
	symsRead bool
	users    map[uint32]string
	bootWall time.Time // the wall-clock time of CLOCK_MONOTONIC's zero
	bootRead bool
	cgroups  cgroupTree // for cgroup_path()
}

type kernelSymbol struct {
	addr uint64
	name string
}

// kallsyms reads /proc/kallsyms once.
func (m *machine) kallsyms() []kernelSymbol {
	if m.symsRead {
		return m.syms
	}
	m.symsRead = true
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "ffffffff81000000 T _text [module]"
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil || addr == 0 {
			continue
		}
		m.syms = append(m.syms, kernelSymbol{addr, fields[2]})
	}
	sort.Slice(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
	return m.syms
}

// symbolAt names the kernel symbol containing addr, or "" if none.
func (m *machine) symbolAt(addr uint64) string {
	syms := m.kallsyms()
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > addr })
	if i == 0 {
		return ""
	}
	return syms[i-1].name
}

// symbolAddr finds a kernel symbol's address.
func (m *machine) symbolAddr(name string) (uint64, bool) {
	for _, s := range m.kallsyms() {
		if s.name == name {
			return s.addr, true
		}
	}
	return 0, false
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
