package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AccelEnv names an environment variable that chooses qemu's accelerator:
// "kvm" or "tcg" (software emulation). Unset, the harness uses KVM when
// the host has hardware virtualization and TCG otherwise.
const AccelEnv = "GOTRACE_VM_ACCEL"

// kernelCmdline keeps the console quiet, as serial output is slow under
// emulation, yet shows warnings (loglevel=5: a lockup's stack trace),
// turns an oops or a soft lockup into a panic and a panic into an
// immediate reboot, which -no-reboot makes qemu's exit: a guest that
// goes wrong ends at once, with the reason on the console.
const kernelCmdline = "console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet loglevel=5"

// accelArgs returns qemu's accelerator options and the accelerator's name.
//
// Software emulation runs both guest CPUs on one host thread
// (thread=single): it leaves the other host CPU to the tests running
// beside it, and rules out the races of multi-threaded TCG between the
// vCPUs (the guest patches its own code and sends IPIs whenever a probe
// is attached). It boots as fast as the multi-threaded default here.
func accelArgs() (args []string, name string, err error) {
	kvm := []string{"-enable-kvm", "-cpu", "host"}
	tcg := []string{"-accel", "tcg,thread=single"}
	switch a := os.Getenv(AccelEnv); a {
	case "kvm":
		return kvm, "kvm", nil
	case "tcg":
		return tcg, "tcg", nil
	case "":
		if kvmUsable() {
			return kvm, "kvm", nil
		}
		return tcg, "tcg", nil
	default:
		return nil, "", fmt.Errorf("%s=%q: want kvm or tcg", AccelEnv, a)
	}
}

// kvmUsable reports whether qemu can run a stock kernel with KVM: /dev/kvm
// must open, and the CPU must have hardware virtualization (vmx or svm).
// The second check matters: some cloud VMs offer a /dev/kvm (kvm-pvm, for
// instance) that only boots specially built guest kernels, and a stock
// kernel hangs there instead of failing.
func kvmUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	return hasVirtFlag(string(cpuinfo))
}

// hasVirtFlag reports whether /proc/cpuinfo's flags include vmx or svm.
func hasVirtFlag(cpuinfo string) bool {
	for line := range strings.Lines(cpuinfo) {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		for _, f := range strings.Fields(flags) {
			if f == "vmx" || f == "svm" {
				return true
			}
		}
	}
	return false
}

// boot runs qemu on the kernel and initramfs until the guest powers off or
// the timeout passes, with the serial ports' files in dir. It returns the
// result, and an error if the guest did not report an exit status.
func boot(tl tools, kernel, initrd, dir string, timeout time.Duration) (*Result, error) {
	accel, accelName, err := accelArgs()
	if err != nil {
		return nil, err
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	args := []string{
		"-m", "1G", "-smp", "2",
		"-nographic", "-monitor", "none", "-no-reboot", "-nic", "none",
		"-kernel", kernel, "-initrd", initrd, "-append", kernelCmdline,
		// ttyS0 to ttyS3: the console, then the guest program's stdout,
		// stderr and exit status (see initScript).
		"-serial", "file:" + file("console"),
		"-serial", "file:" + file("stdout"),
		"-serial", "file:" + file("stderr"),
		"-serial", "file:" + file("status"),
	}
	args = append(args, accel...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.qemu, args...)
	if tl.nice != "" {
		// Below the host's own processes: tests that run beside the VM
		// (go test runs packages in parallel) and count events in a time
		// window must not lose their CPU to the emulator. nice execs
		// qemu, so the timeout still kills qemu itself.
		cmd = exec.CommandContext(ctx, tl.nice, append([]string{"-n", "10", tl.qemu}, args...)...)
	}
	var qemuOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &qemuOut, &qemuOut
	start := time.Now()
	runErr := cmd.Run()
	res := &Result{Elapsed: time.Since(start), ExitCode: -1, Accel: accelName}
	read := func(name string) string {
		b, _ := os.ReadFile(file(name))
		return string(b)
	}
	res.Console, res.Stdout, res.Stderr = cleanConsole(read("console")), read("stdout"), read("stderr")
	status := strings.TrimSpace(read("status"))

	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("the guest did not power off within %v", timeout)
	case runErr != nil:
		return res, fmt.Errorf("qemu: %v: %s", runErr, strings.TrimSpace(qemuOut.String()))
	case strings.Contains(res.Console, "Kernel panic"):
		return res, errors.New("the guest kernel panicked")
	case status == "":
		return res, errors.New("the guest powered off without reporting an exit status")
	}
	code, err := strconv.Atoi(status)
	if err != nil {
		return res, fmt.Errorf("the guest reported exit status %q", status)
	}
	res.ExitCode = code
	return res, nil
}

// escapeRE matches the terminal control sequences the firmware writes to
// the console (ESC c, ESC [ ... letter).
var escapeRE = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[a-zA-Z])`)

// cleanConsole makes the console readable in a failure message: no
// terminal control sequences, and "\n" line ends instead of the serial
// line's "\r\n".
func cleanConsole(s string) string {
	return strings.ReplaceAll(escapeRE.ReplaceAllString(s, ""), "\r\n", "\n")
}
