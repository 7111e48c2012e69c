package kerneltest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// breakpointsLock is the file whose lock LockBreakpoints takes.
const breakpointsLock = "gotrace-test-breakpoints.lock"

// LockBreakpoints makes the tests that use hardware breakpoints run one at
// a time, across test binaries too (go test ./... runs packages in
// parallel): the CPU has few debug registers (4 on x86-64), and the kernel
// counts a breakpoint of any thread against every breakpoint watched on
// all CPUs, so two such tests at once could take each other's registers.
// The lock is held until the test ends.
func LockBreakpoints(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), breakpointsLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("opening the breakpoint tests' lock: %v", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		t.Fatalf("locking %s: %v", f.Name(), err)
	}
	// Closing the file releases the lock.
	t.Cleanup(func() { f.Close() })
}
