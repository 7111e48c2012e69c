package runtime_test

// The kernel function probe tests, run for real in the VM suite
// (runtime/vmtest boots a Debian kernel that has kprobes and fentry).

import (
	"testing"

	"github.com/gotrace/gotrace/runtime/vmtest"
)

func TestVMKprobes(t *testing.T) {
	if !vmtest.InVM(t) {
		return
	}
	KprobesForReal(t)
}

func TestVMFentry(t *testing.T) {
	if !vmtest.InVM(t) {
		return
	}
	FentryForReal(t)
}
