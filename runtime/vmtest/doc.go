// Package vmtest runs tests against a kernel the host may not have: it
// boots Debian's stock cloud kernel under qemu and runs a program in it.
// Tests of kernel features such as kprobes and fentry use it, so that they
// run (and can fail) on any machine that has qemu, whatever its own kernel
// offers.
//
// The guest is an initramfs the harness writes itself (a newc cpio
// archive, gzip-compressed): busybox, an init script that mounts proc,
// sysfs, devtmpfs, tmpfs, tracefs, debugfs and bpffs and brings up the
// loopback interface (no other network), and two static Go
// binaries built for each run: the calling package's test binary
// (TestBinaryPath) and the gotrace command (GotracePath). The program's
// stdout, stderr and exit status come back on serial ports of their own,
// apart from the console.
//
// A test either runs itself in the VM:
//
//	func TestVMKprobe(t *testing.T) {
//		if !vmtest.InVM(t) {
//			return // it ran in the VM, and passed
//		}
//		// From here on, inside the VM.
//	}
//
// or runs any program there and judges the Result:
//
//	res := vmtest.Run(t, vmtest.Guest{Args: []string{vmtest.GotracePath, "-e", script}})
//
// What the host needs: qemu-system-x86_64 and a static busybox (Debian's
// qemu-system-x86 and busybox-static), apt to fetch the kernel package,
// and the go command. Missing packages are installed with apt-get only in
// CI (CI=true) or under GOTRACE_REQUIRE_KERNEL=1; elsewhere the tests skip
// and say what to install. As with runtime/kerneltest, a skip is a failure
// under GOTRACE_REQUIRE_KERNEL=1. The kernel (the image package that
// linux-image-cloud-amd64 depends on) is downloaded once with apt-get
// download and kept in the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache, then gotrace/vm/PACKAGE_VERSION/vmlinuz);
// a new Debian version is a new download.
//
// qemu uses KVM when the host has hardware virtualization and software
// emulation (TCG, on one host thread) otherwise; GOTRACE_VM_ACCEL=kvm or
// tcg overrides that. GOTRACE_VM_KERNEL=/path/to/bzImage boots another
// kernel.
//
// Name VM tests TestVM...: `go test -run '^TestVM' ./...` then runs the
// VM suite alone, and CI runs it apart from the host tests (.ci/run).
package vmtest
