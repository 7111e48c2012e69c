package probes

import "sort"

// regNames are the registers reg() reads, by the names bpftrace gives
// them, at their offsets in the architecture's struct pt_regs.
func regNames(goarch string) map[string]int {
	switch goarch {
	case "amd64":
		// arch/x86/include/asm/ptrace.h, 8 bytes each, in order.
		names := []string{"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
			"ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"}
		m := map[string]int{}
		for i, n := range names {
			m[n] = 8 * i
		}
		return m
	case "arm64":
		// struct user_pt_regs: regs[31], sp, pc, pstate.
		m := map[string]int{"sp": 248, "pc": 256, "pstate": 264}
		for i := 0; i <= 30; i++ {
			m["r"+itoa(i)] = 8 * i
		}
		return m
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

// RegOffset returns the offset in struct pt_regs of the register reg()
// names name on an architecture (a GOARCH value).
func RegOffset(goarch, name string) (int, bool) {
	off, ok := regNames(goarch)[name]
	return off, ok
}

// RegNames lists the register names reg() takes on an architecture.
func RegNames(goarch string) []string {
	var out []string
	for n := range regNames(goarch) {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
