package perf

import (
	"os"
	"testing"
)

// requireKernel skips a test that needs root and a live kernel when the test
// is not running as root. With GOTRACE_REQUIRE_KERNEL=1 in the environment
// (as on CI machines that are known to have them) it fails the test instead,
// so kernel coverage cannot silently disappear.
func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root and a live kernel (running as uid %d)", os.Geteuid())
	}
}

// skipOrFail skips the test with the given reason, or fails it when
// GOTRACE_REQUIRE_KERNEL=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("GOTRACE_REQUIRE_KERNEL") == "1" {
		t.Fatalf("GOTRACE_REQUIRE_KERNEL=1 but: "+format, args...)
	}
	t.Skipf(format, args...)
}
