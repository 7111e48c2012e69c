package stdlib

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/gotrace/gotrace/lang/types"
)

// The numbers here are the kernel's, from arch/x86/entry/syscalls/
// syscall_64.tbl and include/uapi/asm-generic/unistd.h: they check the
// generated table against an independent source.
var knownSyscalls = []struct {
	arch string
	nr   int64
	name string
}{
	{"amd64", 0, "read"},
	{"amd64", 1, "write"},
	{"amd64", 39, "getpid"},
	{"amd64", 59, "execve"},
	{"amd64", 231, "exit_group"},
	{"amd64", 257, "openat"},
	{"amd64", 262, "newfstatat"},
	{"arm64", 0, "io_setup"},
	{"arm64", 56, "openat"},
	{"arm64", 63, "read"},
	{"arm64", 64, "write"},
	{"arm64", 79, "newfstatat"},
	{"arm64", 172, "getpid"},
	{"arm64", 221, "execve"},
}

func TestSyscallTable(t *testing.T) {
	for _, k := range knownSyscalls {
		if got := syscallName(k.arch, k.nr); got != k.name {
			t.Errorf("syscallName(%s, %d) = %q, want %q", k.arch, k.nr, got, k.name)
		}
		if got, ok := syscallNumberOf(k.arch, k.name); !ok || got != k.nr {
			t.Errorf("syscallNumberOf(%s, %q) = %d, %v; want %d", k.arch, k.name, got, ok, k.nr)
		}
	}
	unknown := []struct {
		arch string
		nr   int64
	}{{"amd64", -1}, {"amd64", 100000}, {"arm64", 1 << 40}, {"mips", 0}}
	for _, u := range unknown {
		if got := syscallName(u.arch, u.nr); got != "" {
			t.Errorf("syscallName(%s, %d) = %q, want none", u.arch, u.nr, got)
		}
	}
	for _, name := range []string{"", "nosuch", "open"} {
		if _, ok := syscallNumberOf("arm64", name); ok {
			t.Errorf("arm64 has a system call %q; it has no such one", name)
		}
	}
}

func TestSyscallNameFormat(t *testing.T) {
	l := New()
	typ := types.NewSpecial("syscall_name", "")
	tests := []struct {
		nr   int64
		want string
	}{{-1, "-1"}, {100000, "100000"}}
	for _, k := range knownSyscalls {
		if k.arch == runtime.GOARCH {
			tests = append(tests, struct {
				nr   int64
				want string
			}{k.nr, k.name})
		}
	}
	for _, tt := range tests {
		raw := binary.LittleEndian.AppendUint64(nil, uint64(tt.nr))
		if got := l.FormatSpecial(typ, raw); got != tt.want {
			t.Errorf("syscall_name(%d) prints %q, want %q", tt.nr, got, tt.want)
		}
	}
}

func TestConstant(t *testing.T) {
	l := New()
	for _, k := range knownSyscalls {
		if k.arch != runtime.GOARCH {
			continue
		}
		if got, ok := l.Constant("__NR_" + k.name); !ok || got != k.nr {
			t.Errorf("Constant(__NR_%s) = %d, %v; want %d", k.name, got, ok, k.nr)
		}
	}
	for _, name := range []string{"__NR_nosuch", "__NR_", "NR_read", "read", "__NR_READ"} {
		if v, ok := l.Constant(name); ok {
			t.Errorf("Constant(%q) = %d; want no such constant", name, v)
		}
	}
}
