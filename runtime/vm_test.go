package runtime_test

// The runtime's tests in the VM suite: runtime/vmtest boots Debian's 6.1
// kernel, which has kprobes and fentry, and is older than the kernels the
// code generator is developed on.

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

// TestVMOlderKernel runs tests of code that older kernels take
// differently: without the signed division instructions (ISA v4, Linux
// 6.6), with map updates that return an int whose upper half is not the
// sign (full maps, full stack side maps), and with stack side maps that
// tracing programs may only use since 6.1, as they are not preallocated.
func TestVMOlderKernel(t *testing.T) {
	if !vmtest.InVM(t) {
		return
	}
	t.Run("SignedDivision", TestSignedDivision)
	t.Run("FullMapWarns", TestFullMapWarns)
	t.Run("StackIDs", TestStackIDs)
	t.Run("LostStacks", TestLostStacks)
}
