package probes

// Regs says where a kprobe program finds a function's arguments and return
// value in the struct pt_regs its context points to: which registers the
// architecture's calling convention uses, at their offsets in pt_regs.
// Arguments past the register ones are on the stack, where a probe at an
// offset into the function no longer finds them reliably; as in bpftrace,
// argN covers the register arguments only.
type Regs struct {
	Arch string // GOARCH spelling
	// Args are the offsets of the argument registers, first argument first.
	Args []int
	// Ret is the offset of the register holding the return value.
	Ret int
	// IP and SP are the offsets of the instruction and stack pointers.
	IP, SP int
}

// RegsFor returns the pt_regs layout of an architecture (a GOARCH value).
func RegsFor(goarch string) (*Regs, bool) {
	switch goarch {
	case "amd64":
		// struct pt_regs (arch/x86/include/asm/ptrace.h): r15 r14 r13 r12
		// bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss,
		// 8 bytes each. System V: di, si, dx, cx, r8, r9; the result in ax.
		return &Regs{Arch: goarch, Args: []int{112, 104, 96, 88, 72, 64}, Ret: 80, IP: 128, SP: 152}, true
	case "arm64":
		// struct pt_regs starts with struct user_pt_regs: regs[31], sp,
		// pc, pstate. AAPCS64: x0..x7; the result in x0.
		return &Regs{Arch: goarch, Args: []int{0, 8, 16, 24, 32, 40, 48, 56}, Ret: 0, IP: 256, SP: 248}, true
	}
	return nil, false
}
