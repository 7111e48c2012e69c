// Package kerneltest holds what gotrace's kernel tests share: the rule for
// when they may skip, and workloads the tests start themselves so that the
// events they trace are known exactly.
//
// A kernel test skips only when the machine cannot run it (not root, no
// BPF). Setting GOTRACE_REQUIRE_KERNEL=1, as .ci/run does, turns every such
// skip into a failure so that kernel coverage cannot silently disappear.
package kerneltest

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
)

// RequireEnv is the environment variable that turns skips into failures.
const RequireEnv = "GOTRACE_REQUIRE_KERNEL"

// Require skips (or, under GOTRACE_REQUIRE_KERNEL=1, fails) t unless the
// test runs as root on a kernel that can load tracing BPF programs.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root and a live kernel (running as uid %d)", os.Geteuid())
	}
	if err := features.HaveProgramType(ebpf.TracePoint); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			SkipOrFail(t, "the kernel cannot load tracepoint programs: %v", err)
		}
	}
}

// SkipOrFail skips t with the reason, or fails it under
// GOTRACE_REQUIRE_KERNEL=1.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf(RequireEnv+"=1 but: "+format, args...)
	}
	t.Skipf(format, args...)
}
