package runtime

import (
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// -lv shows what a raw tracepoint's arg0, arg1, ... are: the parameters of
// the kernel's BPF stub for the tracepoint, read here straight from the
// running kernel's BTF.
func TestListRawTracepointArgs(t *testing.T) {
	kerneltest.Require(t)
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var stub *btf.Func
	if err := spec.TypeByName("__bpf_trace_sched_switch", &stub); err != nil {
		t.Fatal(err)
	}
	params := stub.Type.(*btf.FuncProto).Params[1:] // after the tracepoint's data
	got, err := listProbes("rawtracepoint:sched:sched_switch", true, &probes.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "rawtracepoint:sched:sched_switch" {
		t.Fatalf("listed %+v, want rawtracepoint:sched:sched_switch alone", got)
	}
	args := got[0].Args
	if len(args) != len(params) {
		t.Fatalf("args %q, want one for each of %d parameters", args, len(params))
	}
	for i, p := range params {
		if !strings.HasSuffix(args[i], " "+p.Name) {
			t.Errorf("arg%d is %q, want the parameter %s", i, args[i], p.Name)
		}
	}
	if !slices.Contains(args, "struct task_struct * prev") {
		t.Errorf("args %q lack %q", args, "struct task_struct * prev")
	}
}
