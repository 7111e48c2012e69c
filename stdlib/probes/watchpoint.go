package probes

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
)

// watchpoint:ADDRESS:LENGTH:MODE (alias w) is a hardware breakpoint: a perf
// event of type PERF_TYPE_BREAKPOINT that runs the probe's
// BPF_PROG_TYPE_PERF_EVENT program each time the CPU accesses the LENGTH
// bytes at ADDRESS as MODE says (r read, w write, x execute). As in
// bpftrace, a script run with -p PID or -c CMD watches that process (its
// user-space memory, or what the kernel does on its behalf); a script run
// with neither watches a kernel address, on every CPU.
//
// bpftrace also has watchpoint:FUNC+argN:LENGTH:MODE, which watches the
// address found in an argument of FUNC each time FUNC is entered (the
// process is stopped with SIGSTOP until the watchpoint is set, so that no
// access is missed), and asyncwatchpoint (alias aw), the same without the
// SIGSTOP; asyncwatchpoint exists only in that form. gotrace does not
// implement that form: both are refused with a message saying so.

// watchpointUsage is how a watchpoint is spelled.
const watchpointUsage = "watchpoint:ADDRESS:LENGTH:MODE, e.g. watchpoint:0x404020:8:w"

// watchpointProvider is watchpoint:ADDRESS:LENGTH:MODE (alias w).
func watchpointProvider() *Provider {
	p := &Provider{
		Name:     "watchpoint",
		Aliases:  []string{"w"},
		Help:     "a hardware watchpoint on memory: " + watchpointUsage + " (a user address with -p or -c, a kernel address without)",
		ProgType: ebpf.PerfEvent,
		Attach:   attachPerf,
		Process:  true,
		NoArgN:   "watchpoint probes have no arguments",
		NoArgs:   "watchpoint probes have no args",
	}
	p.Resolve = watchpointResolver(p)
	return p
}

// asyncwatchpointProvider is bpftrace's asyncwatchpoint (alias aw), which
// only has the FUNC+argN form: every use is refused with an explanation
// (see resolveWatchpoint).
func asyncwatchpointProvider() *Provider {
	p := &Provider{
		Name:     "asyncwatchpoint",
		Aliases:  []string{"aw"},
		Help:     "bpftrace's watchpoint:FUNC+argN without stopping the process: not supported (use watchpoint:ADDRESS:LENGTH:MODE)",
		ProgType: ebpf.PerfEvent,
		Attach:   attachPerf,
		Process:  true,
	}
	p.Resolve = watchpointResolver(p)
	return p
}

// watchpointResolver resolves p's attach points for the machine's
// architecture; each makes one target.
func watchpointResolver(p *Provider) func(env *Env, ap AttachSpec) ([]*Target, error) {
	return func(env *Env, ap AttachSpec) ([]*Target, error) {
		t, err := resolveWatchpoint(p, env, ap, runtime.GOARCH)
		if err != nil {
			return nil, err
		}
		return []*Target{t}, nil
	}
}

// resolveWatchpoint checks a watchpoint attach point for the architecture
// goarch and makes its target.
func resolveWatchpoint(p *Provider, env *Env, ap AttachSpec, goarch string) (*Target, error) {
	async := p.Name == "asyncwatchpoint"
	if async && (len(ap.Parts) < 2 || !strings.Contains(ap.Parts[1], "+")) {
		return nil, fmt.Errorf("asyncwatchpoint is bpftrace's watchpoint:FUNC+argN form without stopping the process on the function's entry, which gotrace does not support; a fixed address is watched with %s", watchpointUsage)
	}
	if len(ap.Parts) != 4 {
		return nil, fmt.Errorf("%s needs an address, a length and a mode: %s", p.Name, watchpointUsage)
	}
	where, lenText, modeText := ap.Parts[1], ap.Parts[2], ap.Parts[3]
	if strings.Contains(where, "+") {
		return nil, fmt.Errorf("%s:FUNC+argN:LENGTH:MODE (watching the address a function is passed, each time it is called) is not supported: gotrace watches fixed addresses only, %s", p.Name, watchpointUsage)
	}
	arch, ok := watchArches(goarch)
	if !ok {
		return nil, fmt.Errorf("watchpoints are not supported on %s", goarch)
	}
	addr, err := strconv.ParseUint(where, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("bad watchpoint address %q: want a number, such as 0x404020", where)
	}
	if addr == 0 {
		return nil, fmt.Errorf("address 0 cannot be watched: want a non-zero address")
	}
	length, err := strconv.ParseUint(lenText, 10, 64)
	if err != nil || (length != 1 && length != 2 && length != 4 && length != 8) {
		return nil, fmt.Errorf("bad watchpoint length %q: a watchpoint watches 1, 2, 4 or 8 bytes", lenText)
	}
	access, err := parseWatchMode(modeText)
	if err != nil {
		return nil, err
	}
	bp := perf.Breakpoint{Addr: addr, Len: length, Access: access}
	if err := arch.check(bp); err != nil {
		return nil, err
	}
	// The address decides what memory the script's addresses are in and
	// whose accesses are watched: a user-space address means nothing
	// without a process.
	process := env.PID != 0 || env.Child
	space := types.Kernel
	switch {
	case addr < arch.userEnd:
		if !process {
			return nil, fmt.Errorf("%#x is a user-space address: name the process whose memory to watch with -p PID or -c CMD (without either, a watchpoint watches a kernel address on every CPU)", addr)
		}
		space = types.User
	case addr < arch.kernelStart:
		return nil, fmt.Errorf("%#x is neither a user-space nor a kernel address on %s", addr, arch.name)
	}
	spec := perf.BreakpointSpec(bp)
	return &Target{
		Provider: p,
		// bpftrace's name: the address in decimal, the mode sorted.
		Name:  fmt.Sprintf("%s:%d:%d:%s", p.Name, addr, length, bp.Mode()),
		Perf:  &spec,
		Space: space,
	}, nil
}

// parseWatchMode reads a watchpoint's MODE: letters r, w and x, each at
// most once, in any order.
func parseWatchMode(mode string) (uint32, error) {
	if mode == "" {
		return 0, fmt.Errorf("no watchpoint mode: want r (read), w (write) or x (execute), or a combination such as rw")
	}
	var access uint32
	for _, c := range mode {
		var bit uint32
		switch c {
		case 'r':
			bit = perf.BreakRead
		case 'w':
			bit = perf.BreakWrite
		case 'x':
			bit = perf.BreakExec
		default:
			return 0, fmt.Errorf("bad watchpoint mode %q: want r (read), w (write) or x (execute), or a combination such as rw", mode)
		}
		if access&bit != 0 {
			return 0, fmt.Errorf("bad watchpoint mode %q: %c is there twice", mode, c)
		}
		access |= bit
	}
	return access, nil
}

// watchArch is what an architecture's debug registers can watch, as its
// kernel's hw_breakpoint code accepts it.
type watchArch struct {
	name string
	// modes are the accesses the CPU can watch, spelled as Mode spells
	// them.
	modes []string
	// execLen is the length an execution watchpoint takes.
	execLen uint64
	// aligned says that a watched range must start at a multiple of its
	// length.
	aligned bool
	// User-space addresses are below userEnd (the largest user address
	// space the architecture's paging allows); kernel addresses at or
	// above kernelStart.
	userEnd, kernelStart uint64
}

// watchArches describes the architectures gotrace knows watchpoints of.
func watchArches(goarch string) (watchArch, bool) {
	switch goarch {
	case "amd64":
		// Intel SDM vol. 3, 17.2.4: the R/W bits of DR7 select execution,
		// writes, or reads and writes; there is no "reads only", and an
		// instruction breakpoint's length must be 1 byte (Linux asks for
		// sizeof(long) and sets it). Linux rejects unaligned ranges.
		// 57-bit user space with 5-level paging.
		return watchArch{name: "x86-64", modes: []string{"w", "rw", "x"}, execLen: 8, aligned: true,
			userEnd: 1 << 56, kernelStart: 0xff00000000000000}, true
	case "arm64":
		// Watchpoints load, store or both; breakpoints are on 4-byte
		// instructions. Linux handles unaligned ranges itself. 52-bit
		// address spaces at most.
		return watchArch{name: "arm64", modes: []string{"r", "w", "rw", "x"}, execLen: 4,
			userEnd: 1 << 52, kernelStart: 0xfff0000000000000}, true
	}
	return watchArch{}, false
}

// check refuses what the architecture cannot watch, before the kernel
// does with a bare EINVAL.
func (a watchArch) check(bp perf.Breakpoint) error {
	mode := bp.Mode()
	supported := false
	for _, m := range a.modes {
		supported = supported || m == mode
	}
	if !supported {
		switch {
		case mode == "r":
			return fmt.Errorf("%s cannot watch reads alone (mode r): use rw, which watches reads and writes", a.name)
		case bp.Access&perf.BreakExec != 0:
			return fmt.Errorf("%s cannot watch mode %s: a watchpoint watches execution (x) or data accesses, not both; use a probe for each", a.name, mode)
		}
		return fmt.Errorf("%s cannot watch mode %s: it watches %s", a.name, mode, strings.Join(a.modes, ", "))
	}
	if bp.Access == perf.BreakExec {
		if bp.Len != a.execLen {
			return fmt.Errorf("an execution watchpoint (x) has length %d on %s, not %d: it watches the instruction at the address", a.execLen, a.name, bp.Len)
		}
		return nil
	}
	if a.aligned && bp.Addr%bp.Len != 0 {
		return fmt.Errorf("%#x is not a multiple of the length %d: %s watches aligned ranges only", bp.Addr, bp.Len, a.name)
	}
	return nil
}
