package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// loaded is a script whose maps and programs are in the kernel.
type loaded struct {
	coll *ebpf.Collection
	// progs[i] is the loaded program of script.Code.Programs[i]; identical
	// programs share one kernel program.
	progs []*ebpf.Program
	// names[i] is the collection's name for progs[i]: programs with the
	// same name are one kernel program. multi marks those loaded to be
	// attached to all their targets with one multi link.
	names []string
	multi map[string]bool
	// inChain marks the programs that run as part of the chain of an
	// earlier program on the same target: attaching that one attaches
	// them. chained says whether chains were made at all.
	inChain map[int]bool
	chained bool
}

// loadConfig says how to load a script.
type loadConfig struct {
	// startNS is the CLOCK_MONOTONIC time that `elapsed` counts from.
	startNS uint64
	// childPID is the PID of the command started for the run (cpid).
	childPID int
	// logLevel asks the verifier for its log (see ebpf.LogLevel).
	logLevel ebpf.LogLevel
}

// load puts the script's maps and programs into the kernel. The programs
// of probes on one target are chained into one (see programSpecs); if the
// kernel refuses a chain (the verifier gives up on its size where it
// accepts the parts), they are loaded one by one instead, as they would
// run without chaining.
func (s *Script) load(c loadConfig) (*loaded, error) {
	removeMemlock()
	l, err := s.loadWith(c, true)
	if err != nil && len(l.inChain) > 0 {
		l, err = s.loadWith(c, false)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// loadWith loads the script, with chains or without. When it fails, it
// still returns what it would have loaded (without a collection), so that
// load can tell whether chains were involved.
func (s *Script) loadWith(c loadConfig, chain bool) (*loaded, error) {
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{},
	}
	for ref, m := range s.Code.Specs {
		spec.Maps[ref] = m.Copy()
	}
	progs, names, multi, inChain := s.programSpecs(c, chain)
	l := &loaded{names: names, multi: multi, inChain: inChain, chained: chain}
	if c.logLevel == 0 {
		for _, ps := range progs {
			dropSourceLines(ps)
		}
	}
	maps.Copy(spec.Programs, progs)
	opts := ebpf.ProgramOptions{LogLevel: c.logLevel}
	if len(inChain) > 0 && c.logLevel == 0 {
		// A refused chain is loaded again one program at a time, which
		// explains any error: cilium/ebpf's retries of a refused load
		// with ever larger logs (seconds for a chain the verifier gave
		// up on) would be wasted.
		opts.LogDisabled = true
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: opts})
	if err != nil {
		return l, s.explainLoadError(err, names)
	}
	l.coll = coll
	for _, n := range names {
		l.progs = append(l.progs, coll.Programs[n])
	}
	return l, nil
}

// dropSourceLines removes the script-line annotations from a program's
// instructions. cilium/ebpf turns them into BTF line info, which costs a
// BTF object in the kernel for each program; only the verifier's log shows
// it, and a run asks for no log. (When a program fails to load, the error
// still names the script line: it is found in the instructions the code
// generator made, see explainLoadError.)
func dropSourceLines(ps *ebpf.ProgramSpec) {
	for i, ins := range ps.Instructions {
		if ins.Source() != nil {
			ps.Instructions[i] = ins.WithSource(nil)
		}
	}
}

// removeMemlock lifts RLIMIT_MEMLOCK on kernels that charge BPF maps and
// programs to it, those before 5.11; newer ones charge the memory cgroup
// and ignore the limit, and there it is left alone. Failure surfaces as a
// load error, which says what to do.
//
// cilium/ebpf's rlimit.RemoveMemlock does the same, but its package tells
// the two kinds of kernel apart in an init function, in every process that
// links it, by creating a map under a zero limit (and finding the BPF
// token, a read of mountinfo): a third of a millisecond of gotrace's
// start-up, spent before main even for --help. The kernel's release says
// as much for the price of uname(2); a kernel that reports an older
// release but has the accounting (a backport) gets the limit lifted, which
// does no harm.
func removeMemlock() {
	if perf.RunningKernelAtLeast(5, 11) {
		return
	}
	// pid 0 is this process. Needs CAP_SYS_RESOURCE.
	_ = unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}, nil)
}

// programSpecs returns the programs to load, with their constants patched
// in, by the name they are loaded under; that name for every program of
// s.Code.Programs; which names are loaded for multi links; and which
// programs run inside another's chain.
//
// With chain set, the programs of several probes on one event are chained
// into one (see codegen.Chain), loaded under the name "pN" of the first of
// them and attached once. Wildcard probes often produce identical programs (or
// chains); each is loaded once, under the name of the first of them.
// Those that serve several targets of a provider with multi links are
// loaded for such a link, when the kernel has them.
func (s *Script) programSpecs(c loadConfig, chain bool) (progs map[string]*ebpf.ProgramSpec, names []string, multi map[string]bool, inChain map[int]bool) {
	specs := make([]*ebpf.ProgramSpec, len(s.Code.Programs))
	for i, p := range s.Code.Programs {
		ps := p.Spec.Copy()
		patchConstants(ps, map[string]int64{
			codegen.StartTimeSymbol: int64(c.startNS),
			stdlib.ChildPIDSymbol:   int64(c.childPID),
		})
		specs[i] = ps
	}
	units, inChain := s.chainPrograms(specs, chain)
	sharers := map[string]int{}
	for _, u := range units {
		u.text = programKey(u.spec)
		if u.multiOK {
			sharers[multiKey(u.prov, u.text)]++
		}
	}
	haveMulti := map[*probes.Provider]bool{}
	byText := map[string]string{}
	progs = map[string]*ebpf.ProgramSpec{}
	names = make([]string, len(s.Code.Programs))
	multi = map[string]bool{}
	for _, u := range units {
		isMulti := false
		if u.multiOK && sharers[multiKey(u.prov, u.text)] > 1 {
			have, asked := haveMulti[u.prov]
			if !asked {
				have = u.prov.HaveMulti(s.env)
				haveMulti[u.prov] = have
			}
			isMulti = have
		}
		key := "single " + u.text
		if isMulti {
			key = multiKey(u.prov, u.text)
		}
		name, ok := byText[key]
		if !ok {
			name = fmt.Sprintf("p%d", u.members[0])
			byText[key] = name
			if isMulti {
				u.spec.AttachType = u.prov.MultiAttachType
				multi[name] = true
			}
			progs[name] = u.spec
		}
		for _, i := range u.members {
			names[i] = name
		}
	}
	return progs, names, multi, inChain
}

// loadUnit is one program to load: a program of the script, or the chain
// of the programs of several probes on one target.
type loadUnit struct {
	members []int // indexes in Code.Programs, in script order
	spec    *ebpf.ProgramSpec
	prov    *probes.Provider
	text    string // programKey(spec)
	// multiOK says that a multi link can attach the unit's program.
	multiOK bool
}

// chainPrograms groups the programs (specs[i] is that of
// s.Code.Programs[i]) into load units: with chain set, those of one target
// of a provider whose events can run several programs
// (probes.Provider.Chain) are chained into one, and the others stand
// alone. inChain marks the
// programs that run inside a chain headed by an earlier program.
func (s *Script) chainPrograms(specs []*ebpf.ProgramSpec, chain bool) (units []*loadUnit, inChain map[int]bool) {
	inChain = map[int]bool{}
	byTarget := map[string]*loadUnit{}
	for i, p := range s.Code.Programs {
		prov := p.Target.Provider
		u := &loadUnit{members: []int{i}, spec: specs[i], prov: prov}
		if chain && prov.Chain {
			key := prov.Name + "\x00" + p.Target.Name
			if head, ok := byTarget[key]; ok {
				head.members = append(head.members, i)
				continue
			}
			byTarget[key] = u
		}
		units = append(units, u)
	}
	var out []*loadUnit
	for _, u := range units {
		if len(u.members) > 1 {
			parts := make([]codegen.ChainPart, len(u.members))
			for k, i := range u.members {
				parts[k] = codegen.ChainPart{Spec: specs[i], StackSize: s.Code.Programs[i].StackSize}
			}
			spec, err := codegen.Chain(specs[u.members[0]].Name, parts)
			if err != nil {
				// Loaded one by one, as the kernel would run them.
				for _, i := range u.members {
					out = append(out, s.loneUnit(i, specs[i]))
				}
				continue
			}
			u.spec = spec
			for _, i := range u.members[1:] {
				inChain[i] = true
			}
			out = append(out, u)
			continue
		}
		out = append(out, s.loneUnit(u.members[0], u.spec))
	}
	return out, inChain
}

// loneUnit is the load unit of program i alone.
func (s *Script) loneUnit(i int, spec *ebpf.ProgramSpec) *loadUnit {
	t := s.Code.Programs[i].Target
	prov := t.Provider
	return &loadUnit{members: []int{i}, spec: spec, prov: prov,
		multiOK: prov.AttachMulti != nil && prov.MultiOK(t)}
}

// programKey identifies a program's code: programs with the same key are
// the same program. It holds the program's type and attach point and, for
// every instruction, its fields, symbol, reference and source line, which
// is all that formatting the instructions as text shows (and a little
// more): that is what the key once was, and it took a millisecond of the
// start-up of ten small programs.
func programKey(ps *ebpf.ProgramSpec) string {
	b := make([]byte, 0, 64+40*len(ps.Instructions))
	appendString := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(ps.Type))
	b = binary.AppendUvarint(b, uint64(ps.AttachType))
	appendString(ps.AttachTo)
	for _, ins := range ps.Instructions {
		b = binary.LittleEndian.AppendUint32(b, uint32(ins.OpCode))
		b = append(b, byte(ins.Dst), byte(ins.Src))
		b = binary.LittleEndian.AppendUint16(b, uint16(ins.Offset))
		b = binary.LittleEndian.AppendUint64(b, uint64(ins.Constant))
		appendString(ins.Symbol())
		appendString(ins.Reference())
		src := ""
		if s := ins.Source(); s != nil {
			src = s.String()
		}
		appendString(src)
		m := ""
		if fd := ins.Map(); fd != nil {
			m = fmt.Sprint(fd)
		}
		appendString(m)
	}
	return string(b)
}

// multiKey identifies the programs that one multi link serves: the same
// code of the same provider. (A kprobe and a kretprobe with the same code
// share a program attached with single links, but a multi link attaches
// its program the one way of its provider.)
func multiKey(prov *probes.Provider, text string) string {
	return "multi " + prov.Name + " " + text
}

func (l *loaded) close() {
	if l != nil && l.coll != nil {
		l.coll.Close()
	}
}

// patchConstants fills in the constants known only when the script is
// loaded: the LoadImm instructions that reference a symbol of values
// (codegen.StartTimeSymbol, the time `elapsed` counts from, and
// stdlib.ChildPIDSymbol, cpid) get its value.
func patchConstants(ps *ebpf.ProgramSpec, values map[string]int64) {
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		if v, ok := values[ins.Reference()]; ok {
			ins.Constant = v
			*ins = ins.WithReference("")
		}
	}
}

// monotonicNow is the kernel's ktime_get_ns() clock, read from user space.
func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// explainLoadError turns a verifier rejection into a message that names the
// probe and the source line, with the verifier's own last words.
func (s *Script) explainLoadError(err error, names []string) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("loading BPF programs: %w\nhint: run as root, or grant CAP_BPF and CAP_PERFMON", err)
		}
		return fmt.Errorf("loading BPF programs: %w", err)
	}
	prog := -1
	for i, n := range names {
		if strings.Contains(err.Error(), "program "+n+":") {
			prog = i
			break
		}
	}
	var b strings.Builder
	if prog < 0 {
		b.WriteString("the kernel's verifier rejected a program")
	} else {
		p := s.Code.Programs[prog]
		fmt.Fprintf(&b, "the kernel's verifier rejected the program for %s", p.Target.Name)
		if src := sourceOfRejection(p.Spec.Instructions, ve.Log); src != "" {
			fmt.Fprintf(&b, "\nwhile running: %s", src)
		}
	}
	log := ve.Log
	tail := log
	if len(tail) > 6 {
		tail = tail[len(tail)-6:]
	}
	b.WriteString("\nverifier:")
	for _, l := range tail {
		fmt.Fprintf(&b, "\n  %s", l)
	}
	return errors.New(b.String())
}

// sourceOfRejection finds the instruction the verifier stopped at (the last
// "N: (op) ..." line of its log, N counting 8-byte slots) and returns the
// script line the code generator annotated it with.
func sourceOfRejection(insns asm.Instructions, log []string) string {
	at := -1
	for _, l := range log {
		var n int
		var op string
		if _, err := fmt.Sscanf(l, "%d: (%2s)", &n, &op); err == nil {
			at = n
		}
	}
	if at < 0 {
		return ""
	}
	off := 0
	for i, ins := range insns {
		if off >= at {
			if src := codegen.SourceOf(insns, i); src != nil {
				return src.String()
			}
			return ""
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	return ""
}
