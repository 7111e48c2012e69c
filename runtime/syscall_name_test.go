package runtime_test

import (
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestSyscallNameNumbers names system call numbers written in the script,
// which differ between architectures, and checks the __NR_ constants
// against the kernel's numbers (testdata/kernel/syscall_name.gt names the
// numbers the kernel reports instead).
func TestSyscallNameNumbers(t *testing.T) {
	kerneltest.Require(t)
	// From arch/x86/entry/syscalls/syscall_64.tbl and
	// include/uapi/asm-generic/unistd.h.
	numbers := map[string][3]int{
		"amd64": {0, 257, 59},
		"arm64": {63, 56, 221},
	}[goruntime.GOARCH]
	if numbers == [3]int{} {
		t.Skipf("no known system call numbers for %s", goruntime.GOARCH)
	}
	script := fmt.Sprintf(`BEGIN {
	printf("%%s %%s %%s\n", syscall_name(%d), syscall_name(%d), syscall_name(%d));
	printf("%%d %%d %%d\n", __NR_read, __NR_openat, __NR_execve);
	exit();
}`, numbers[0], numbers[1], numbers[2])
	out, _, _ := runScript(t, "syscall_numbers.gt", script, nil, "", 5*time.Second)
	// exit() ends the output with the blank lines of the (empty) map dump.
	want := fmt.Sprintf("read openat execve\n%d %d %d\n\n\n", numbers[0], numbers[1], numbers[2])
	if out != want {
		t.Errorf("got\n%swant\n%s", out, want)
	}
}
