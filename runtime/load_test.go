package runtime

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// When the verifier rejects a program (a code generator bug, or a kernel
// that is stricter than expected), the error names the probe and the script
// line, and ends with the verifier's last words rather than its whole log.
func TestVerifierRejectionNamesProbeAndLine(t *testing.T) {
	kerneltest.Require(t)
	s, err := Compile("bad.gt", "BEGIN {\n  printf(\"%d\\n\", 1 + 2);\n}\n", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sabotage(s.Code.Programs[0].Spec)
	_, err = s.load(loadConfig{})
	if err == nil {
		t.Fatal("the sabotaged program loaded")
	}
	msg := err.Error()
	for _, want := range []string{
		"the kernel's verifier rejected the program for BEGIN",
		"while running: bad.gt:2:   printf(\"%d\\n\", 1 + 2);",
		"R9 !read_ok",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n"); n > 10 {
		t.Errorf("error has %d lines; want the verifier's last words only:\n%s", n, msg)
	}
}

// sabotage makes prog read R9, which nothing has written, just before its
// first ring buffer reservation, so that the verifier rejects it there.
func sabotage(prog *ebpf.ProgramSpec) {
	for i, ins := range prog.Instructions {
		if ins.IsBuiltinCall() && ins.Constant == int64(asm.FnRingbufReserve) {
			bad := asm.Mov.Reg(asm.R0, asm.R9).WithMetadata(ins.Metadata)
			prog.Instructions = append(prog.Instructions[:i:i], append([]asm.Instruction{bad}, prog.Instructions[i:]...)...)
			return
		}
	}
}

// TestProgramKey checks the key under which programs are shared: equal for
// the same code, different when anything the kernel or a reader of the
// code would see differs.
func TestProgramKey(t *testing.T) {
	base := func() *ebpf.ProgramSpec {
		return &ebpf.ProgramSpec{
			Type: ebpf.TracePoint,
			Instructions: asm.Instructions{
				asm.LoadMapPtr(asm.R1, 0).WithReference("gt_m"),
				asm.Mov.Imm(asm.R0, 1).WithSource(asm.Comment("@ = count()")),
				asm.Return(),
			},
		}
	}
	key := programKey(base())
	if again := programKey(base()); again != key {
		t.Error("two copies of one program have different keys")
	}
	changes := map[string]func(*ebpf.ProgramSpec){
		"program type": func(p *ebpf.ProgramSpec) { p.Type = ebpf.Kprobe },
		"attach type":  func(p *ebpf.ProgramSpec) { p.AttachType = ebpf.AttachTraceFEntry },
		"attach point": func(p *ebpf.ProgramSpec) { p.AttachTo = "vfs_read" },
		"constant":     func(p *ebpf.ProgramSpec) { p.Instructions[1].Constant = 2 },
		"register":     func(p *ebpf.ProgramSpec) { p.Instructions[1].Dst = asm.R2 },
		"opcode":       func(p *ebpf.ProgramSpec) { p.Instructions[1].OpCode = asm.Add.Op(asm.ImmSource) },
		"map":          func(p *ebpf.ProgramSpec) { p.Instructions[0] = p.Instructions[0].WithReference("gt_n") },
		"source line": func(p *ebpf.ProgramSpec) {
			p.Instructions[1] = p.Instructions[1].WithSource(asm.Comment("@x = count()"))
		},
		"symbol":   func(p *ebpf.ProgramSpec) { p.Instructions[0] = p.Instructions[0].WithSymbol("entry") },
		"one more": func(p *ebpf.ProgramSpec) { p.Instructions = append(p.Instructions, asm.Return()) },
	}
	for what, change := range changes {
		p := base()
		change(p)
		if programKey(p) == key {
			t.Errorf("a different %s gives the same key", what)
		}
	}
}

// TestRemoveMemlock checks removeMemlock on this machine: the limit is
// left alone where the kernel ignores it, and lifted where it does not.
func TestRemoveMemlock(t *testing.T) {
	var before, after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &before); err != nil {
		t.Fatal(err)
	}
	removeMemlock()
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &after); err != nil {
		t.Fatal(err)
	}
	charged := perf.RunningKernelAtLeast(5, 11)
	switch {
	case charged && after != before:
		t.Errorf("RLIMIT_MEMLOCK changed from %+v to %+v on a kernel that ignores it", before, after)
	case !charged && os.Geteuid() == 0 && after.Cur != unix.RLIM_INFINITY:
		t.Errorf("RLIMIT_MEMLOCK is %+v, not lifted", after)
	}
}

// TestChainedPrograms checks which programs a script loads: its probes on
// one tracepoint (however spelled) as one chain under the first one's
// name, even where two have the same code, and others alone.
func TestChainedPrograms(t *testing.T) {
	s, err := Compile("chain.gt", `tracepoint:gotrace_test:unattachable { @a = count(); }
BEGIN { @b = count(); }
tracepoint:gotrace_test:unattachable /args.id == 1/ { @c = count(); }
t:gotrace_test:unattachable { @a = count(); }
`, CompileOptions{Env: &probes.Env{Tracepoints: fakeTracefs(t)}})
	if err != nil {
		t.Fatal(err)
	}
	progs, names, _, inChain := s.programSpecs(loadConfig{}, true)
	if want := []string{"p0", "p1", "p0", "p0"}; !slices.Equal(names, want) {
		t.Errorf("load names %q, want %q", names, want)
	}
	if len(progs) != 2 || !maps.Equal(inChain, map[int]bool{2: true, 3: true}) {
		t.Errorf("%d programs with %v in the chain, want 2 with programs 2 and 3", len(progs), inChain)
	}
	// The chain is the bodies and one instruction before each.
	want := 0
	for _, i := range []int{0, 2, 3} {
		want += len(s.Code.Programs[i].Spec.Instructions) + 1
	}
	if got := len(progs["p0"].Instructions); got != want {
		t.Errorf("the chain has %d instructions, want %d", got, want)
	}
}

// TestChainRefusedLoadsAlone checks the fallback of load: two probes on
// one tracepoint whose loops take the verifier 600,000 instructions each
// are refused as one chain (the limit is a million) and loaded one by
// one, as they would run without chaining.
func TestChainRefusedLoadsAlone(t *testing.T) {
	kerneltest.Require(t)
	probe := "tracepoint:syscalls:sys_enter_getppid { $i = 0; while ($i < 100000) { $i++; } @%s = $i; }\n"
	s, err := Compile("long.gt", fmt.Sprintf(probe, "a")+fmt.Sprintf(probe, "b"), CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.loadWith(loadConfig{}, true); err == nil {
		l.close()
		t.Fatal("the kernel loaded the chain of both loops; the test needs one it refuses")
	}
	l, err := s.load(loadConfig{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	defer l.close()
	if l.chained || len(l.inChain) != 0 || l.names[0] == l.names[1] {
		t.Errorf("loaded with chained=%t, inChain %v, names %q: want the two programs alone", l.chained, l.inChain, l.names)
	}
}
