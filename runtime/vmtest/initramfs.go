package vmtest

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Where the guest finds its programs. Both are always in the initramfs.
const (
	// GotracePath is the gotrace command, built from ./cmd/gotrace.
	GotracePath = "/bin/gotrace"
	// TestBinaryPath is the calling package's test binary.
	TestBinaryPath = "/bin/vm.test"
)

// initScript is the guest's /init. It mounts what gotrace and cilium/ebpf
// expect (proc before any BPF call: the library reads /proc to check the
// kernel), runs /guest with its stdout, stderr and then its exit status
// each on a serial port of its own, and powers off. Closing a serial port
// waits until its output has been sent, and each port is closed before
// power-off, so no output is lost. The tmpfs goes on /run, not /tmp: the
// root file system (the unpacked initramfs) is writable already, and a
// mount on /tmp would hide files the initramfs put there.
const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
# The loopback interface, for tests that connect to 127.0.0.1.
ip link set lo up
# Raw mode: no "\n" to "\r\n" translation, no echo.
for tty in /dev/ttyS1 /dev/ttyS2 /dev/ttyS3; do stty -F $tty raw -echo; done
cd /tmp
/guest </dev/null >/dev/ttyS1 2>/dev/ttyS2
echo $? >/dev/ttyS3
poweroff -f
reboot -f
`

// shellQuote quotes s for sh as one word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// guestScript is /guest: the program's environment, working directory
// (made if missing) and command line.
func guestScript(env []string, dir string, args []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("mkdir -p " + shellQuote(dir) + " && cd " + shellQuote(dir) + " || exit 125\n")
	for _, kv := range env {
		b.WriteString("export " + shellQuote(kv) + "\n")
	}
	b.WriteString("exec")
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

// buildBinaries builds the guest's two Go programs into dir, statically
// (CGO_ENABLED=0), at the same time: the test binary of the package in the
// working directory (go test runs tests there) and gotrace.
func buildBinaries(tl tools, dir string) (testBin, gotraceBin string, err error) {
	testBin = filepath.Join(dir, "vm.test")
	gotraceBin = filepath.Join(dir, "gotrace")
	builds := [][]string{
		{"test", "-c", "-o", testBin, "."},
		{"build", "-o", gotraceBin, "github.com/gotrace/gotrace/cmd/gotrace"},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, args := range builds {
		wg.Go(func() {
			cmd := exec.Command(tl.goTool, args...)
			// The guest has no C library; and a test binary built with
			// -race or cgo would need one.
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return "", "", err
		}
	}
	return testBin, gotraceBin, nil
}

// writeInitramfs writes a gzip-compressed newc cpio archive to out: the
// init script, busybox, the files (guest path to host path) and /guest.
func writeInitramfs(out, busybox, guest string, files map[string]string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	// Fastest compression: the archive is built for every run and
	// unpacked once, and the better levels cost more time than they save.
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return err
	}
	cw := &cpioWriter{w: zw}

	// Mount points and the directories of every file, parents first.
	dirs := map[string]bool{}
	addDirs := func(p string) {
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range []string{"/bin", "/dev", "/etc", "/proc", "/sys", "/tmp", "/root", "/run"} {
		dirs[d] = true
	}
	all := maps.Clone(files)
	if all == nil {
		all = map[string]string{}
	}
	all["/bin/busybox"] = busybox
	for g := range all {
		addDirs(g)
	}
	// Lexical order puts every directory after its parent.
	sortedDirs := slices.Sorted(maps.Keys(dirs))
	for _, d := range sortedDirs {
		cw.Dir(d, 0o755)
	}
	// The console device: the kernel opens it for init before devtmpfs
	// is mounted.
	cw.CharDev("/dev/console", 0o600, 5, 1)
	script := func(name, text string) {
		cw.File(name, 0o755, int64(len(text)), strings.NewReader(text))
	}
	script("/init", initScript)
	script("/guest", guest)
	// User and group names for root, which the guest runs as (gotrace's
	// username builtin, busybox's id and ls look them up).
	text := func(name, text string) {
		cw.File(name, 0o644, int64(len(text)), strings.NewReader(text))
	}
	text("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
	text("/etc/group", "root:x:0:\n")

	guestPaths := slices.Sorted(maps.Keys(all))
	for _, g := range guestPaths {
		if err := addFile(cw, g, all[g]); err != nil {
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// addFile copies one host file into the archive, keeping its permissions.
func addFile(cw *cpioWriter, guestPath, hostPath string) error {
	f, err := os.Open(hostPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s (for %s in the guest) is not a regular file", hostPath, guestPath)
	}
	cw.File(guestPath, st.Mode().Perm(), st.Size(), f)
	return nil
}

// expandDirs returns files (guest path to host path) with every host
// directory replaced by the regular files under it, at the same relative
// paths in the guest.
func expandDirs(files map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for guestPath, hostPath := range files {
		st, err := os.Stat(hostPath)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out[guestPath] = hostPath
			continue
		}
		err = filepath.WalkDir(hostPath, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(hostPath, p)
			if err != nil {
				return err
			}
			out[path.Join(guestPath, filepath.ToSlash(rel))] = p
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reservedGuestPath reports why a file cannot be put at path in the guest:
// the harness's own files, and mount points that would hide it.
func reservedGuestPath(p string) string {
	switch p {
	case "/init", "/guest", "/bin/busybox", "/etc/passwd", "/etc/group", GotracePath, TestBinaryPath:
		return "is the harness's own"
	}
	for _, m := range []string{"/proc", "/sys", "/dev", "/run"} {
		if p == m || strings.HasPrefix(p, m+"/") {
			return "is under " + m + ", which the guest mounts over"
		}
	}
	return ""
}
