package tracefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Well-known locations of the tracing filesystem.
const (
	// DefaultDir is where tracefs is mounted on modern systems (Linux 4.1+).
	DefaultDir = "/sys/kernel/tracing"
	// DebugfsDir is where debugfs is conventionally mounted; on older
	// systems tracefs is reached as DebugfsDir/tracing (an automount).
	DebugfsDir = "/sys/kernel/debug"
)

// FS is an opened tracing filesystem. Its methods read files below Root on
// every call; an FS may be used from several goroutines at once.
type FS struct {
	root string
}

// Open returns the tracing filesystem, mounting it if necessary.
//
// It looks, in order, for: tracefs already mounted (preferring
// /sys/kernel/tracing); a mounted debugfs whose tracing/ directory exposes
// tracefs; a fresh tracefs mount at /sys/kernel/tracing; a fresh debugfs
// mount at /sys/kernel/debug. Calling Open again finds the mount made by the
// first call, so it is safe to call repeatedly. (Two processes or
// goroutines that race on the very first call may both mount; the second
// tracefs mount simply stacks on the first and shows the same files.)
// Mounting needs CAP_SYS_ADMIN; when everything fails the error says which
// command to run.
func Open() (*FS, error) {
	return open(defaultMountConfig())
}

// OpenAt uses dir as the root of a tracing filesystem without looking for or
// creating mounts (for example a tracefs instance, or a copy used in tests).
// dir must contain an events directory.
func OpenAt(dir string) (*FS, error) {
	if !hasEvents(dir) {
		return nil, fmt.Errorf("tracefs: %s is not a tracing filesystem (no %s directory)", dir, filepath.Join(dir, "events"))
	}
	return &FS{root: dir}, nil
}

// Root returns the directory the tracing filesystem is reached at, such as
// "/sys/kernel/tracing".
func (fs *FS) Root() string { return fs.root }

// path joins elements below the root.
func (fs *FS) path(elem ...string) string {
	return filepath.Join(append([]string{fs.root}, elem...)...)
}

// mountConfig names the files and directories Open works with, so tests can
// substitute their own.
type mountConfig struct {
	mounts  string // a /proc/*/mounts file; "" for this thread's (see mountTable)
	tracefs string // where to mount tracefs
	debugfs string // where to mount debugfs as a fallback
}

func defaultMountConfig() mountConfig {
	return mountConfig{tracefs: DefaultDir, debugfs: DebugfsDir}
}

// mountTable is the mount table to read: cfg.mounts, or this thread's.
// It is chosen when it is needed, which it is not when tracefs is at
// DefaultDir.
func (cfg mountConfig) mountTable() string {
	if cfg.mounts != "" {
		return cfg.mounts
	}
	// /proc/self/mounts shows the mount namespace of the thread-group
	// leader; thread-self is right even when the calling thread has
	// unshared its namespace.
	if _, err := os.Stat("/proc/thread-self/mounts"); err == nil {
		return "/proc/thread-self/mounts"
	}
	return "/proc/self/mounts"
}

func open(cfg mountConfig) (*FS, error) {
	// The usual case, tracefs mounted at its canonical place, which
	// findMounted would choose first: statfs says so without reading
	// and parsing the mount table, a tenth of a millisecond.
	if isTracefs(cfg.tracefs) {
		return &FS{root: cfg.tracefs}, nil
	}
	if root, ok, err := findMounted(cfg); err != nil {
		return nil, err
	} else if ok {
		return &FS{root: root}, nil
	}

	// Nothing usable is mounted: mount tracefs where systemd would.
	tracefsErr := mountAndCheck(cfg.tracefs, "tracefs", cfg.tracefs)
	if tracefsErr == nil {
		return &FS{root: cfg.tracefs}, nil
	}
	// Kernels without tracefs (before 4.1) expose tracing through debugfs.
	debugRoot := filepath.Join(cfg.debugfs, "tracing")
	debugfsErr := mountAndCheck(cfg.debugfs, "debugfs", debugRoot)
	if debugfsErr == nil {
		return &FS{root: debugRoot}, nil
	}

	hint := ""
	if errors.Is(tracefsErr, unix.EPERM) || errors.Is(tracefsErr, unix.EACCES) {
		hint = " (run as root, or ask an administrator to mount it)"
	}
	return nil, fmt.Errorf("tracefs is not mounted and could not be mounted%s: %v; %v\n"+
		"mount it yourself with:  mount -t tracefs nodev %s\n"+
		"or on old kernels:       mount -t debugfs nodev %s",
		hint, tracefsErr, debugfsErr, cfg.tracefs, cfg.debugfs)
}

// findMounted looks for an existing mount that exposes tracing events.
func findMounted(cfg mountConfig) (string, bool, error) {
	mounts, err := readMounts(cfg.mountTable())
	if err != nil {
		return "", false, fmt.Errorf("tracefs: %w", err)
	}
	var candidates []string
	for _, m := range mounts {
		if m.fstype == "tracefs" {
			candidates = append(candidates, m.dir)
		}
	}
	// Prefer the canonical mount point, then any other tracefs mount
	// (such as the automount under debugfs), then debugfs/tracing, whose
	// automount is triggered by looking at it.
	candidates = preferFirst(candidates, cfg.tracefs)
	for _, m := range mounts {
		if m.fstype == "debugfs" {
			candidates = append(candidates, filepath.Join(m.dir, "tracing"))
		}
	}
	for _, dir := range candidates {
		if hasEvents(dir) {
			return dir, true, nil
		}
	}
	return "", false, nil
}

// preferFirst moves want to the front of dirs if it is present.
func preferFirst(dirs []string, want string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d == want {
			out = append(out, d)
		}
	}
	for _, d := range dirs {
		if d != want {
			out = append(out, d)
		}
	}
	return out
}

// mountAndCheck mounts a filesystem of type fstype at dir and checks that
// root then holds tracing events.
func mountAndCheck(dir, fstype, root string) error {
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME
	if err := unix.Mount("nodev", dir, fstype, flags, ""); err != nil {
		return fmt.Errorf("mount -t %s nodev %s: %w", fstype, dir, err)
	}
	if !hasEvents(root) {
		return fmt.Errorf("mounted %s at %s but %s has no events directory", fstype, dir, root)
	}
	return nil
}

// isTracefs reports whether dir is a mounted tracefs with events.
func isTracefs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.TRACEFS_MAGIC && hasEvents(dir)
}

func hasEvents(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "events"))
	return err == nil && st.IsDir()
}

// validName rejects category or event names that could escape the events
// directory.
func validName(kind, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("tracefs: invalid tracepoint %s %q", kind, s)
	}
	return nil
}
