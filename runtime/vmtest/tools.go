package vmtest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// tools are the host programs a VM run needs.
type tools struct {
	qemu    string // qemu-system-x86_64
	busybox string // a statically linked busybox: the guest has no libc
	goTool  string // the go command, to build the guest's binaries
	nice    string // nice(1), to run qemu at a lower priority; "" if missing
}

// Debian packages that provide the tools.
const (
	qemuPackage    = "qemu-system-x86"
	busyboxPackage = "busybox-static"
)

// installAllowed reports whether the harness may change the host with
// apt-get: only in CI (CI=true) or when kernel coverage is required, where
// a missing tool must not turn into a skip.
func installAllowed() bool {
	return os.Getenv("CI") == "true" || os.Getenv(kerneltest.RequireEnv) == "1"
}

// findTools returns the tools, installing the missing ones with apt-get
// when that is allowed; when it is not, or it fails, the test skips (or
// fails under GOTRACE_REQUIRE_KERNEL=1) with the reason.
func findTools(t testing.TB) tools {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		// The guest is an amd64 Debian kernel running the host's busybox
		// and binaries built for the host.
		kerneltest.SkipOrFail(t, "the VM harness needs a linux/amd64 host, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		// go test puts its own toolchain first in PATH, so this is a test
		// binary run by hand without one.
		kerneltest.SkipOrFail(t, "the VM harness builds the guest's binaries with the go command: %v", err)
	}
	var missing []string
	qemu, qerr := exec.LookPath("qemu-system-x86_64")
	if qerr != nil {
		missing = append(missing, qemuPackage)
	}
	busybox, berr := staticBusybox()
	if berr != nil {
		missing = append(missing, busyboxPackage)
	}
	if len(missing) > 0 {
		why := fmt.Sprintf("missing %s (%v; %v)", strings.Join(missing, " and "), qerr, berr)
		if !installAllowed() {
			kerneltest.SkipOrFail(t, "VM tests: %s; install them (apt-get install %s) or set CI=true or %s=1 to let the tests install them",
				why, strings.Join(missing, " "), kerneltest.RequireEnv)
		}
		t.Logf("VM tests: %s; installing with apt-get", why)
		if err := aptInstall(missing...); err != nil {
			kerneltest.SkipOrFail(t, "VM tests: installing %s: %v", strings.Join(missing, " "), err)
		}
		if qemu, err = exec.LookPath("qemu-system-x86_64"); err != nil {
			t.Fatalf("VM tests: %s installed but: %v", qemuPackage, err)
		}
		if busybox, err = staticBusybox(); err != nil {
			t.Fatalf("VM tests: %s installed but: %v", busyboxPackage, err)
		}
	}
	nice, _ := exec.LookPath("nice") // optional: without it qemu runs at normal priority
	return tools{qemu: qemu, busybox: busybox, goTool: goTool, nice: nice}
}

// staticBusybox finds busybox and checks that it is statically linked:
// Debian's plain "busybox" package is dynamic and cannot run in the guest.
func staticBusybox() (string, error) {
	path, err := exec.LookPath("busybox")
	if err != nil {
		return "", err
	}
	static, err := isStatic(path)
	if err != nil {
		return "", err
	}
	if !static {
		return "", fmt.Errorf("%s is dynamically linked", path)
	}
	return path, nil
}

// isStatic reports whether the ELF executable at path runs without a
// dynamic loader, that is, has no PT_INTERP program header.
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// aptInstall installs Debian packages, refreshing the package lists first
// if a plain install fails (a fresh machine may have none).
func aptInstall(pkgs ...string) error {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("no apt-get on this host: %v", err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("apt-get install needs root (running as uid %d)", os.Geteuid())
	}
	install := func() error {
		// The lock timeout lets test packages that go test runs in
		// parallel install one after the other instead of failing.
		args := append([]string{"install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"}, pkgs...)
		return runLogged("apt-get", args...)
	}
	if err := install(); err == nil {
		return nil
	}
	if err := runLogged("apt-get", "update", "-q"); err != nil {
		return err
	}
	return install()
}

// runLogged runs a command non-interactively and returns an error that
// includes its output if it fails.
func runLogged(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out.String(), 20))
	}
	return nil
}
