package stdlib

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// regFunc is reg("name"): a register of the traced code, as the probe
// saw it, in probes whose context is the CPU's registers (kprobe, uprobe,
// usdt; struct pt_regs).
func regFunc() *Func {
	return &Func{
		Name: "reg", Help: `reg("name"): a register of the traced code (kprobe, uprobe, usdt): reg("ip"), reg("sp"), reg("di")`,
		Kind: Value, MinArgs: 1, MaxArgs: 1,
		Check: func(a *Args) (*types.Type, error) {
			if a.Strs[0] == nil {
				return nil, argErr(0, "reg() takes a register name as a string literal")
			}
			for _, t := range a.Targets {
				if t.Regs == nil {
					return nil, fmt.Errorf("reg() reads the registers of kprobe, kretprobe, uprobe, uretprobe and usdt probes, not of %s probes", t.Provider.Name)
				}
			}
			if _, ok := probes.RegOffset(runtime.GOARCH, *a.Strs[0]); !ok {
				return nil, argErr(0, "there is no register %q on %s; reg() knows %s", *a.Strs[0], runtime.GOARCH, strings.Join(probes.RegNames(runtime.GOARCH), ", "))
			}
			return types.Uint64, nil
		},
		Emit: func(e Emitter, a *Args) {
			off, _ := probes.RegOffset(runtime.GOARCH, *a.Strs[0])
			e.LoadContext(asm.R0)
			e.Emit(asm.LoadMem(asm.R0, asm.R0, int16(off), asm.DWord))
		},
	}
}
