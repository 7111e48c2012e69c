package codegen

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// TestChain checks the chain's code: the context pointer saved below the
// deepest frame, every exit of a body but the last one's turned into a
// jump to the next body's reload of R1, and everything else unchanged.
func TestChain(t *testing.T) {
	first := asm.Instructions{
		asm.LoadImm(asm.R0, 1<<40, asm.DWord), // two slots: offsets count slots
		asm.JEq.Imm(asm.R0, 0, "").WithReference(""),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	first[1].Offset = 1 // over the first exit
	second := asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}
	got, err := Chain("chained", []ChainPart{
		{Spec: &ebpf.ProgramSpec{Name: "a", Type: ebpf.TracePoint, Instructions: first}, StackSize: 24},
		{Spec: &ebpf.ProgramSpec{Name: "b", Type: ebpf.TracePoint, Instructions: second}, StackSize: 40},
	})
	if err != nil {
		t.Fatal(err)
	}
	ja := func(off int16) asm.Instruction {
		return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: off}
	}
	want := asm.Instructions{
		asm.StoreMem(asm.RFP, -48, asm.R1, asm.DWord),
		first[0],
		first[1],
		ja(2), // over the mov and the other exit, to the reload
		first[3],
		ja(0),
		asm.LoadMem(asm.R1, asm.RFP, -48, asm.DWord),
		second[0],
		second[1],
	}
	if got.Name != "chained" || got.Type != ebpf.TracePoint {
		t.Errorf("chain is %s of type %v, want chained of type TracePoint", got.Name, got.Type)
	}
	if g, w := listing(got.Instructions), listing(want); g != w {
		t.Errorf("chain:\n%s\nwant:\n%s", g, w)
	}
}

// listing renders instructions one per line, without metadata.
func listing(insns asm.Instructions) string {
	var b strings.Builder
	for _, ins := range insns {
		fmt.Fprintf(&b, "%v\n", ins)
	}
	return b.String()
}

// TestChainRefuses checks the programs Chain leaves to be loaded one by
// one.
func TestChainRefuses(t *testing.T) {
	plain := func(stack int) ChainPart {
		return ChainPart{Spec: &ebpf.ProgramSpec{Name: "p", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}, StackSize: stack}
	}
	withCallback := ChainPart{Spec: &ebpf.ProgramSpec{Name: "loop", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol(funcPrefix + "1"),
		asm.Return(),
	}}}
	for _, c := range []struct {
		name  string
		parts []ChainPart
		want  string
	}{
		{"one program", []ChainPart{plain(0)}, "two programs or more"},
		{"subprograms", []ChainPart{plain(0), withCallback}, "loop has subprograms"},
		{"full stack", []ChainPart{plain(8), plain(maxStack - 4)}, "no stack left"},
	} {
		_, err := Chain("c", c.parts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
