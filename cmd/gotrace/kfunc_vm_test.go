package main

import (
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/vmtest"
)

// TestVMKernelFunctionProbes runs the kernel function probe scripts and
// listings of KernelFunctionProbesForReal through the gotrace binary in
// the VM, whose kernel has kprobes and fentry: one boot for both.
func TestVMKernelFunctionProbes(t *testing.T) {
	if !vmtest.InVM(t) {
		return
	}
	for _, feature := range []string{kerneltest.Kprobe, kerneltest.Fentry} {
		t.Run(feature, func(t *testing.T) {
			KernelFunctionProbesForReal(t, feature)
		})
	}
}
