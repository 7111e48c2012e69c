package stdlib

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang/types"
)

// The system call table (syscalls_table.go) is generated from
// golang.org/x/sys/unix, itself generated from the kernel's headers, rather
// than typed by hand. Regenerate it after changing the x/sys requirement.
//go:generate go run ./internal/gensyscalls -o syscalls_table.go amd64 arm64

// syscallNameFunc is syscall_name(nr). Only the number is moved from the
// kernel; it is named when printed, from the table of the architecture
// gotrace runs on (system call numbers differ between architectures).
func syscallNameFunc() *Func {
	return &Func{
		Name: "syscall_name", Help: `syscall_name(nr): the name of system call nr, e.g. "openat"`, Kind: Value,
		MinArgs: 1, MaxArgs: 1,
		Check: func(a *Args) (*types.Type, error) {
			if !a.Types[0].IsInt() {
				return nil, argErr(0, "syscall_name() takes a system call number, not %s", a.Types[0])
			}
			return types.NewSpecial("syscall_name", ""), nil
		},
		Emit: passValue,
	}
}

func syscallNameFormatter() *Formatter {
	return &Formatter{Name: "syscall_name", Format: func(_ *Library, nr uint64, _ string) string {
		if name := syscallName(runtime.GOARCH, int64(nr)); name != "" {
			return name
		}
		// Unknown numbers print as themselves (signed: a raw
		// sys_enter's id is -1 for a bad number).
		return strconv.FormatInt(int64(nr), 10)
	}}
}

// Constant resolves the named integer constants that bpftrace scripts take
// from C headers they #include: __NR_<name>, the number of a system call on
// the architecture gotrace runs on (<sys/syscall.h>, <asm/unistd.h>).
func (l *Library) Constant(name string) (int64, bool) {
	if call, ok := strings.CutPrefix(name, "__NR_"); ok {
		return syscallNumberOf(runtime.GOARCH, call)
	}
	return 0, false
}
