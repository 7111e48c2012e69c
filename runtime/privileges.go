package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PrivilegeError says that this process may not load tracing programs.
type PrivilegeError struct {
	UID int
	// Missing names the missing capabilities, or says why they are not
	// known.
	Missing string
}

// Error says what to do: run as root or grant the capabilities.
func (e *PrivilegeError) Error() string {
	return fmt.Sprintf("gotrace needs privileges to trace: run as root, or grant CAP_BPF and CAP_PERFMON (running as uid %d %s)", e.UID, e.Missing)
}

// Capabilities gotrace needs (linux/capability.h).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// CheckPrivileges reports, before anything is loaded, whether this
// process may load and attach tracing programs: it must be root or hold
// CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN, which covers both). The
// error is a *PrivilegeError. Run checks this itself; commands call it
// early so that the user learns it before anything else.
func CheckPrivileges() error {
	if os.Geteuid() == 0 {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return &PrivilegeError{UID: os.Geteuid(), Missing: fmt.Sprintf("and its capabilities cannot be read: %v", err)}
	}
	effective := uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	has := func(c uint) bool { return effective&(1<<c) != 0 }
	if has(capSysAdmin) || has(capBPF) && has(capPerfmon) {
		return nil
	}
	var missing string
	switch {
	case !has(capBPF) && !has(capPerfmon):
		missing = "CAP_BPF and CAP_PERFMON"
	case !has(capBPF):
		missing = "CAP_BPF"
	default:
		missing = "CAP_PERFMON"
	}
	return &PrivilegeError{UID: os.Geteuid(), Missing: "without " + missing}
}
