package check_test

import (
	"runtime"
	"testing"
)

// TestSyscallConstants checks that __NR_<name> is the number of a system
// call on the machine's architecture, and that a script's own #define of
// the name comes first.
func TestSyscallConstants(t *testing.T) {
	// From the kernel's syscall_64.tbl and asm-generic/unistd.h.
	numbers := map[string]map[string]int64{
		"amd64": {"read": 0, "openat": 257, "execve": 59},
		"arm64": {"read": 63, "openat": 56, "execve": 221},
	}[runtime.GOARCH]
	if numbers == nil {
		t.Skipf("no known system call numbers for %s", runtime.GOARCH)
	}
	prog, info := checkOK(t, `BEGIN { $read = __NR_read; $openat = __NR_openat; $execve = __NR_execve; }`)
	vars := assigned(prog)
	for name, nr := range numbers {
		e := vars["$"+name]
		if got, ok := info.Consts[e]; !ok || got != nr || typeString(info.Types[e]) != "int64" {
			t.Errorf("__NR_%s = %d (constant: %v, %s), want int64 %d", name, got, ok, typeString(info.Types[e]), nr)
		}
	}
	prog, info = checkOK(t, "#define __NR_read 12345\nBEGIN { $v = __NR_read; }")
	if got := info.Consts[assigned(prog)["$v"]]; got != 12345 {
		t.Errorf("with #define __NR_read 12345, __NR_read = %d", got)
	}
}
