package codegen_test

import (
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// compile compiles a script against the tracefs copy in testdata, without
// privileges and without touching the kernel.
func compile(t *testing.T, script string) *codegen.Output {
	t.Helper()
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.Compile("test.gt", script, runtime.CompileOptions{Env: &probes.Env{Tracepoints: fs}})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s.Code
}

// Unprivileged checks of code generation decisions; the kernel tests in
// runtime check that the programs behave.
func TestMapKinds(t *testing.T) {
	out := compile(t, `BEGIN { @c = count(); @k[pid] = count(); @h = hist(5); @v = 1; @s[comm] = "x"; }`)
	want := map[string]struct {
		typ       ebpf.MapType
		key, vals uint32
	}{
		"@c": {ebpf.PerCPUArray, 4, 8}, // keyless aggregation: no inserts on the hot path
		"@k": {ebpf.PerCPUHash, 8, 8},  // integer keys are 8 bytes
		"@h": {ebpf.PerCPUHash, 8, 8},  // the bucket number is the key
		"@v": {ebpf.Hash, 8, 8},        // plain values are shared, not per CPU
		"@s": {ebpf.Hash, 16, 8},       // comm keys are 16 bytes; "x" is stored in 8
	}
	for _, m := range out.Maps {
		w, ok := want[m.Name]
		if !ok {
			t.Errorf("unexpected map %s", m.Name)
			continue
		}
		if m.Spec.Type != w.typ || m.Spec.KeySize != w.key || m.Spec.ValueSize != w.vals {
			t.Errorf("%s: %v key %d value %d, want %v key %d value %d",
				m.Name, m.Spec.Type, m.Spec.KeySize, m.Spec.ValueSize, w.typ, w.key, w.vals)
		}
		delete(want, m.Name)
	}
	for name := range want {
		t.Errorf("map %s missing", name)
	}
}

// An expression deeper than the four value registers spills to the stack,
// and a key larger than the stack moves to the scratch map.
func TestRegisterSpillsAndScratch(t *testing.T) {
	tests := []struct {
		name, script string
		assigns      int // stores of variables, which look like spills
		spills       bool
		scratch      bool
	}{
		{"shallow", `BEGIN { $a = 1; $b = 2; printf("%d\n", $a + $b); }`, 2, false, false},
		{"deep", `BEGIN { $a = 1; printf("%d\n", $a + ($a + ($a + ($a + ($a + $a))))); }`, 1, true, false},
		{"big-key", `BEGIN { @[` + strings.Repeat(`"`+strings.Repeat("x", 60)+`", `, 8) + `1] = count(); }`, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := compile(t, tt.script)
			p := out.Programs[0]
			spills := 0
			for _, ins := range p.Spec.Instructions {
				if ins.OpCode.Class().IsStore() && ins.Dst == asm.RFP && ins.Src >= asm.R6 && ins.Src <= asm.R9 {
					spills++
				}
			}
			spills -= tt.assigns
			if (spills > 0) != tt.spills {
				t.Errorf("%d spills of value registers; want spills: %v", spills, tt.spills)
			}
			if _, ok := out.Specs[codegen.ScratchMap]; ok != tt.scratch {
				t.Errorf("scratch map present: %v, want %v", ok, tt.scratch)
			}
			if p.StackSize > 512 {
				t.Errorf("stack %d bytes exceeds the kernel's 512", p.StackSize)
			}
		})
	}
}

// Wildcard probes produce one program per target, each named for the
// kernel's 15-character limit, and `probe` maps to the target's name.
func TestWildcardTargets(t *testing.T) {
	out := compile(t, `tracepoint:syscalls:sys_enter_open* { @[probe] = count(); }`)
	if len(out.Programs) < 2 {
		t.Fatalf("%d programs, want one per matching tracepoint", len(out.Programs))
	}
	for i, p := range out.Programs {
		if len(p.Spec.Name) > 15 {
			t.Errorf("program name %q is longer than the kernel allows", p.Spec.Name)
		}
		if out.ProbeNames[i] != p.Target.Name {
			t.Errorf("probe name %d is %q, want %q", i, out.ProbeNames[i], p.Target.Name)
		}
	}
}

// TestRingBufferSize checks that the event ring buffer is 1 MiB by default
// when a program can write to it, a page when none can, and the size the
// script's config asks for in either case.
func TestRingBufferSize(t *testing.T) {
	page := uint32(os.Getpagesize())
	for _, c := range []struct {
		script string
		want   uint32
	}{
		{`tracepoint:raw_syscalls:sys_enter { @ = count(); } END { @x = sum(1); }`, page},
		{`tracepoint:raw_syscalls:sys_enter { printf("%d\n", pid); }`, 1 << 20},
		{`BEGIN { exit(); }`, 1 << 20},
		{`tracepoint:raw_syscalls:sys_enter { @[tid] = count(); if (@[tid] > 5) { print(@); } }`, 1 << 20},
		{`config = { perf_rb_pages = 64 } tracepoint:raw_syscalls:sys_enter { @ = count(); }`, 64 * page},
	} {
		out := compile(t, c.script)
		if got := out.Specs[codegen.EventsMap].MaxEntries; got != c.want {
			t.Errorf("%s: ring buffer of %d bytes, want %d", c.script, got, c.want)
		}
	}
}
