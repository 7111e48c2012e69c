package tracefs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// openKernel opens the live tracefs (mounting it if need be) or skips/fails.
func openKernel(t *testing.T) *FS {
	t.Helper()
	kerneltest.Require(t)
	fs, err := Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return fs
}

func TestKernelOpen(t *testing.T) {
	fs := openKernel(t)
	if !hasEvents(fs.Root()) {
		t.Fatalf("Root %s has no events directory", fs.Root())
	}
	// Safe to call repeatedly: the second call finds the same mount.
	again, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if again.Root() != fs.Root() {
		t.Errorf("second Open root %q, first %q", again.Root(), fs.Root())
	}
}

// A tracefs mounted at the preferred place is used without a look at the
// mount table (here one that names another mount).
func TestKernelOpenPreferred(t *testing.T) {
	fs := openKernel(t)
	if fs.Root() != DefaultDir {
		t.Skipf("tracefs is at %s, not %s", fs.Root(), DefaultDir)
	}
	tmp := t.TempDir()
	other := filepath.Join(tmp, "other")
	copyTree(t, testdataRoot, other)
	mounts := filepath.Join(tmp, "mounts")
	if err := os.WriteFile(mounts, []byte("nodev "+other+" tracefs rw 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := open(mountConfig{mounts: mounts, tracefs: DefaultDir, debugfs: "/nonexistent-debugfs"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Root() != DefaultDir {
		t.Errorf("Root() = %q, want %q", got.Root(), DefaultDir)
	}
	// A directory that is not a tracefs mount is not taken for one.
	got, err = open(mountConfig{mounts: mounts, tracefs: other, debugfs: "/nonexistent-debugfs"})
	if err != nil || got.Root() != other {
		t.Errorf("open with tracefs = a copy: %v, %v; want the copy through the mount table", got, err)
	}
}

func TestKernelTracepoints(t *testing.T) {
	fs := openKernel(t)
	tps, err := fs.Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(tps) < 100 {
		t.Fatalf("only %d tracepoints", len(tps))
	}
	for i := 1; i < len(tps); i++ {
		if compareTracepoints(tps[i-1], tps[i]) >= 0 {
			t.Fatalf("not sorted/unique at %d: %v, %v", i, tps[i-1], tps[i])
		}
	}
	for _, want := range []Tracepoint{{"sched", "sched_switch"}, {"raw_syscalls", "sys_enter"}} {
		if _, found := slicesIndex(tps, want); !found {
			t.Errorf("%v not listed", want)
		}
	}
	m, err := fs.Match("syscalls", "sys_enter_open*")
	if err != nil {
		t.Fatal(err)
	}
	if _, found := slicesIndex(m, Tracepoint{"syscalls", "sys_enter_openat"}); !found {
		t.Errorf("syscalls:sys_enter_open* = %v lacks sys_enter_openat", m)
	}
}

// TestKernelLookup checks, on this kernel, what Lookup relies on: every
// tracepoint available_events lists has an enable file, and the events
// that are not listed (ftrace's own) have none.
func TestKernelLookup(t *testing.T) {
	fs := openKernel(t)
	listed, err := fs.Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range listed {
		got, ok := fs.Lookup(tp.Category, tp.Name)
		if !ok || len(got) != 1 || got[0] != tp {
			t.Errorf("Lookup(%q, %q) = %v, %v", tp.Category, tp.Name, got, ok)
		}
	}
	walked, err := fs.walkEvents()
	if err != nil {
		t.Fatal(err)
	}
	if len(walked) != len(listed) {
		t.Errorf("%d events have an enable file, %d are listed", len(walked), len(listed))
	}
	if _, ok := fs.Lookup("ftrace", "function"); ok {
		t.Error("Lookup found ftrace:function, which available_events does not list")
	}
}

func slicesIndex(tps []Tracepoint, tp Tracepoint) (int, bool) {
	for i, x := range tps {
		if x == tp {
			return i, true
		}
	}
	return -1, false
}

func TestKernelFormatOpenat(t *testing.T) {
	fs := openKernel(t)
	f, err := fs.Format("syscalls", "sys_enter_openat")
	if err != nil {
		t.Fatal(err)
	}
	fl, ok := f.Field("filename")
	if !ok {
		t.Fatalf("no filename field in %+v", f.Fields)
	}
	if fl.Offset != 24 || fl.Size != 8 || !fl.Pointer {
		t.Errorf("filename = %+v, want offset 24 size 8 pointer", fl)
	}
	id, err := fs.ID("syscalls", "sys_enter_openat")
	if err != nil {
		t.Fatal(err)
	}
	if id != f.ID || id == 0 {
		t.Errorf("ID() = %d, format ID = %d", id, f.ID)
	}
}

// Every format file on this kernel parses.
func TestKernelAllFormatsParse(t *testing.T) {
	fs := openKernel(t)
	tps, err := fs.Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range tps {
		f, err := fs.Format(tp.Category, tp.Name)
		if err != nil {
			t.Errorf("%v: %v", tp, err)
			continue
		}
		if len(f.Common) == 0 || f.Size == 0 {
			t.Errorf("%v: %d common fields, size %d", tp, len(f.Common), f.Size)
		}
	}
}

// inPrivateMountNamespace runs fn on a dedicated OS thread that has its own
// private copy of the mount table, so unmounting tracefs there affects
// nothing else on the machine. The thread is never unlocked, so the Go
// runtime destroys it (and with it the namespace) when fn returns.
func inPrivateMountNamespace(t *testing.T, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			errc <- fmt.Errorf("making mounts private: %w", err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// unmountTracing removes every tracefs and debugfs mount visible to the
// calling thread.
func unmountTracing() error {
	cfg := defaultMountConfig()
	for range 10 {
		mounts, err := readMounts(cfg.mountTable())
		if err != nil {
			return err
		}
		n := 0
		for _, m := range mounts {
			if m.fstype == "tracefs" || m.fstype == "debugfs" {
				n++
				if err := unix.Unmount(m.dir, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
					return fmt.Errorf("umount %s: %w", m.dir, err)
				}
			}
		}
		if n == 0 {
			return nil
		}
	}
	return fmt.Errorf("tracefs still mounted after 10 rounds of unmounting")
}

// countMounts counts mounts of fstype at dir, as the calling thread sees them.
func countMounts(fstype, dir string) (int, error) {
	mounts, err := readMounts(defaultMountConfig().mountTable())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range mounts {
		if m.fstype == fstype && m.dir == dir {
			n++
		}
	}
	return n, nil
}

// Open mounts tracefs at /sys/kernel/tracing when nothing is mounted, and a
// second Open does not stack a second mount. Tested in a private mount
// namespace so the machine's own mounts are untouched.
func TestKernelOpenMountsWhenMissing(t *testing.T) {
	kerneltest.Require(t)
	inPrivateMountNamespace(t, func() error {
		if err := unmountTracing(); err != nil {
			return err
		}
		if n, err := countMounts("tracefs", DefaultDir); err != nil || n != 0 {
			return fmt.Errorf("before Open: %d tracefs mounts at %s (%v)", n, DefaultDir, err)
		}
		if hasEvents(DefaultDir) {
			return fmt.Errorf("%s still has events after unmounting", DefaultDir)
		}
		for i := range 2 {
			fs, err := Open()
			if err != nil {
				return fmt.Errorf("Open #%d: %w", i+1, err)
			}
			if fs.Root() != DefaultDir {
				return fmt.Errorf("Open #%d: Root %q, want %q", i+1, fs.Root(), DefaultDir)
			}
			if n, err := countMounts("tracefs", DefaultDir); err != nil || n != 1 {
				return fmt.Errorf("after Open #%d: %d tracefs mounts at %s (%v), want 1", i+1, n, DefaultDir, err)
			}
			f, err := fs.Format("sched", "sched_switch")
			if err != nil {
				return err
			}
			if fl, ok := f.Field("prev_comm"); !ok || fl.ArrayLen != 16 {
				return fmt.Errorf("sched_switch prev_comm = %+v", fl)
			}
		}
		return nil
	})
	// The machine's own mount table still has what it had.
	if _, err := Open(); err != nil {
		t.Fatalf("Open in the test's own namespace: %v", err)
	}
}

// When tracefs cannot be mounted at its usual place, Open falls back to
// mounting debugfs and using its tracing/ directory.
func TestKernelOpenFallsBackToDebugfs(t *testing.T) {
	kerneltest.Require(t)
	debugDir := t.TempDir()
	inPrivateMountNamespace(t, func() error {
		if err := unmountTracing(); err != nil {
			return err
		}
		cfg := defaultMountConfig()
		cfg.tracefs = filepath.Join(debugDir, "no-such-dir") // mount fails
		cfg.debugfs = debugDir
		fs, err := open(cfg)
		if err != nil {
			return err
		}
		if want := filepath.Join(debugDir, "tracing"); fs.Root() != want {
			return fmt.Errorf("Root %q, want %q", fs.Root(), want)
		}
		if n, err := countMounts("debugfs", debugDir); err != nil || n != 1 {
			return fmt.Errorf("%d debugfs mounts at %s (%v), want 1", n, debugDir, err)
		}
		id, err := fs.ID("sched", "sched_switch")
		if err != nil || id == 0 {
			return fmt.Errorf("ID via debugfs: %d, %v", id, err)
		}
		// A second open finds debugfs/tracing (now an automounted tracefs)
		// instead of mounting debugfs again.
		again, err := open(cfg)
		if err != nil {
			return err
		}
		if again.Root() != fs.Root() {
			return fmt.Errorf("second open Root %q, want %q", again.Root(), fs.Root())
		}
		if n, _ := countMounts("debugfs", debugDir); n != 1 {
			return fmt.Errorf("second open stacked debugfs: %d mounts", n)
		}
		return nil
	})
	// Nothing leaked into this namespace.
	if n, err := countMounts("debugfs", debugDir); err != nil || n != 0 {
		t.Errorf("%d debugfs mounts at %s visible outside the namespace (%v)", n, debugDir, err)
	}
	if entries, _ := os.ReadDir(debugDir); len(entries) != 0 {
		t.Errorf("%s not empty outside the namespace: %v", debugDir, entries)
	}
}
