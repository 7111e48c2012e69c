package codegen_test

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// compileWith compiles a script against the tracefs copy in testdata with
// options.
func compileWith(t *testing.T, script string, opts runtime.CompileOptions) *codegen.Output {
	t.Helper()
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	opts.Env = &probes.Env{Tracepoints: fs}
	s, err := runtime.Compile("test.gt", script, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s.Code
}

// calls counts the calls of helper fn in a program.
func calls(insns asm.Instructions, fn asm.BuiltinFunc) int {
	n := 0
	for _, ins := range insns {
		if ins.IsBuiltinCall() && ins.Constant == int64(fn) {
			n++
		}
	}
	return n
}

// TestFilterPID checks which programs -p's filter goes into: tracepoints,
// not BEGIN, END or perf events (those are opened for the process).
func TestFilterPID(t *testing.T) {
	script := `BEGIN { } END { } tracepoint:syscalls:sys_enter_read { } profile:hz:99 { } interval:s:1 { }`
	filtered := map[string]bool{}
	for _, p := range compileWith(t, script, runtime.CompileOptions{PID: 4242}).Programs {
		// The filter is the program's first helper call, right after the
		// prologue: pid = bpf_get_current_pid_tgid() >> 32; if pid != 4242
		// return.
		insns := p.Spec.Instructions
		for i, ins := range insns {
			if ins.IsBuiltinCall() {
				filtered[p.Target.Provider.Name] = ins.Constant == int64(asm.FnGetCurrentPidTgid) && i+2 < len(insns) &&
					insns[i+2].OpCode.JumpOp() == asm.JNE && insns[i+2].Constant == 4242
				break
			}
		}
	}
	want := map[string]bool{"BEGIN": false, "END": false, "tracepoint": true, "profile": false, "interval": false}
	for prov, w := range want {
		if filtered[prov] != w {
			t.Errorf("%s filtered: %v, want %v", prov, filtered[prov], w)
		}
	}
	for _, p := range compileWith(t, script, runtime.CompileOptions{}).Programs {
		if calls(p.Spec.Instructions, asm.FnGetCurrentPidTgid) != 0 {
			t.Errorf("%s: filtered without -p", p.Target.Name)
		}
	}
}

// TestHelperErrors checks that -k checks every probe_read of a script
// (str(), a read through a pointer) with a report of its own, and that
// nothing is checked without it.
func TestHelperErrors(t *testing.T) {
	script := `tracepoint:syscalls:sys_enter_openat { printf("%s %s %d\n", str(args.filename), str(args.filename, 4), *args.filename); }`
	out := compileWith(t, script, runtime.CompileOptions{HelperErrors: true})
	var reports []*codegen.Event
	for _, ev := range out.Events {
		if ev.Kind == codegen.HelperErrorEvent {
			reports = append(reports, ev)
		}
	}
	type report struct {
		fn  asm.BuiltinFunc
		col int
	}
	var got []report
	for _, r := range reports {
		got = append(got, report{r.Helper, r.Pos.Col})
	}
	want := []report{{asm.FnProbeReadUserStr, 61}, {asm.FnProbeReadUserStr, 81}, {asm.FnProbeReadUser, 104}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("helper error reports %v, want %v", got, want)
	}
	if n := calls(out.Programs[0].Spec.Instructions, asm.FnRingbufOutput); n != 3 {
		t.Errorf("%d ringbuf_output calls, want 3", n)
	}
	out = compileWith(t, script, runtime.CompileOptions{})
	for _, ev := range out.Events {
		if ev.Kind == codegen.HelperErrorEvent {
			t.Errorf("a helper error report without -k")
		}
	}
	if n := calls(out.Programs[0].Spec.Instructions, asm.FnRingbufOutput); n != 0 {
		t.Errorf("%d ringbuf_output calls without -k", n)
	}
}
