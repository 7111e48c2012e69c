package codegen_test

import (
	goruntime "runtime"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// compileKfunc compiles a script whose kernel functions come from testdata
// (and, for fentry and fexit, whose prototypes come from the running
// kernel's BTF).
func compileKfunc(t *testing.T, script string) *codegen.Output {
	t.Helper()
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	env := &probes.Env{Tracepoints: fs, Functions: &probes.MachineFunctions{Tracefs: fs, KallsymsPath: "../testdata/kallsyms"}}
	s, err := runtime.Compile("test.gt", script, runtime.CompileOptions{Env: env})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s.Code
}

// loadsAt reports whether insns load a u64 from offset off of a pointer
// (the context: pt_regs for kprobes, the argument slots for fentry).
func loadsAt(insns asm.Instructions, off int16) bool {
	for _, ins := range insns {
		if ins.OpCode.Class().IsLoad() && ins.OpCode.Mode() == asm.MemMode && ins.Src != asm.RFP && ins.Offset == off && ins.OpCode.Size() == asm.DWord {
			return true
		}
	}
	return false
}

// Where kernel function probes find their values: the calling
// convention's registers in pt_regs for kprobes, the trampoline's u64
// slots for fentry and fexit (vfs_read(file, buf, count, pos) returns in
// the fifth), pointers among them copied out with probe_read, and probe
// and func from the attach cookie where targets share programs.
func TestKernelFunctionValues(t *testing.T) {
	regs, ok := probes.RegsFor(goruntime.GOARCH)
	if !ok {
		t.Skipf("kprobes are not supported on %s", goruntime.GOARCH)
	}
	cases := []struct {
		name, script string
		loadAt       int16 // -1: none expected
		probeRead    bool
		cookie       bool
	}{
		{"kprobe arg1", `kprobe:vfs_read { @ = arg1; }`, int16(regs.Args[1]), false, false},
		{"kprobe last register argument", `kprobe:vfs_read { @ = arg` + string(rune('0'+len(regs.Args)-1)) + `; }`, int16(regs.Args[len(regs.Args)-1]), false, false},
		{"kretprobe retval", `kretprobe:vfs_read { @ = retval; }`, int16(regs.Ret), false, false},
		{"kprobe probe from the cookie", `kprobe:vfs_read { @[probe] = count(); }`, -1, false, true},
		{"kretprobe func from the cookie", `kretprobe:vfs_read { @[func] = count(); }`, -1, false, true},
		{"fentry integer argument", `fentry:vfs_read { @ = args.count; }`, 16, false, false},
		{"fentry pointer argument", `fentry:vfs_read { @ = args.pos; }`, -1, true, false},
		{"fexit retval", `fexit:vfs_read { @ = retval; }`, 32, false, false},
		{"fexit pointer retval", `fexit:fget { @ = retval; }`, -1, true, false},
		{"fentry probe is a constant", `fentry:vfs_read { @[probe, func] = count(); }`, -1, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := compileKfunc(t, c.script)
			insns := out.Programs[0].Spec.Instructions
			if c.loadAt >= 0 && !loadsAt(insns, c.loadAt) {
				t.Errorf("no u64 load at context offset %d:\n%v", c.loadAt, insns)
			}
			if got := calls(insns, asm.FnProbeReadKernel) > 0; got != c.probeRead {
				t.Errorf("calls probe_read_kernel: %v, want %v:\n%v", got, c.probeRead, insns)
			}
			if got := calls(insns, asm.FnGetAttachCookie) > 0; got != c.cookie {
				t.Errorf("calls get_attach_cookie: %v, want %v:\n%v", got, c.cookie, insns)
			}
		})
	}
}

// The targets of a kprobe wildcard get identical programs (their
// differences are in the cookie), so that one program serves them all; an
// fentry wildcard's programs each name their function.
func TestKernelFunctionWildcardPrograms(t *testing.T) {
	out := compileKfunc(t, `kprobe:tcp_* { @[probe, func] = count(); } fentry:tcp_c* { @f[probe] = count(); }`)
	var kprobes, fentries []*codegen.Program
	for _, p := range out.Programs {
		if p.Target.Provider.Name == "kprobe" {
			kprobes = append(kprobes, p)
		} else {
			fentries = append(fentries, p)
		}
	}
	if len(kprobes) != 5 || len(fentries) != 2 {
		t.Fatalf("%d kprobe and %d fentry programs, want 5 and 2", len(kprobes), len(fentries))
	}
	for _, p := range kprobes[1:] {
		if p.Spec.Instructions.String() != kprobes[0].Spec.Instructions.String() {
			t.Errorf("%s and %s have different programs", p.Target.Name, kprobes[0].Target.Name)
		}
	}
	if fentries[0].Spec.AttachTo != "tcp_close" || fentries[1].Spec.AttachTo != "tcp_connect" {
		t.Errorf("fentry programs attach to %q and %q", fentries[0].Spec.AttachTo, fentries[1].Spec.AttachTo)
	}
	for i, name := range out.ProbeNames {
		if want := out.Programs[i].Target.Func; out.ProbeFuncs[i] != want || name != out.Programs[i].Target.Name {
			t.Errorf("probe %d: %q, func %q; want %q, %q", i, name, out.ProbeFuncs[i], out.Programs[i].Target.Name, want)
		}
	}
}
