package codegen

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Options tune code generation.
type Options struct {
	// RingBufferSize is the size of the event ring buffer in bytes (a power
	// of two, multiple of the page size). Zero means 1 MiB, or a page when
	// no program writes to it.
	RingBufferSize uint32
	// MaxMapKeys bounds every hash map. Zero means 4096, as in bpftrace.
	MaxMapKeys uint32
	// License is the license programs declare. Empty means "GPL", which
	// the helpers gotrace uses require.
	License string
	// HelperErrors makes programs check what the probe_read helpers (and
	// str()) return and send a HelperErrorEvent when they fail, as
	// bpftrace's -k does.
	HelperErrors bool
	// MaxStacks bounds each side map of stacks (one per stack layout:
	// kstack, kstack(3), ustack, ...; see stacks.go). Zero means 65536,
	// or MaxMapKeys if that is more.
	MaxStacks uint32
	// FilterPID, if not zero, makes the programs of probes that cannot be
	// attached to one process (tracepoints, raw tracepoints, kernel
	// functions: every probe but BEGIN, END and perf events) return at
	// once unless the current process is FilterPID, as bpftrace's -p does.
	FilterPID uint32
}

// Compile generates the programs of a checked script. Errors are returned
// as a *diag.List pointing at the source.
func Compile(src *diag.Source, prog *ast.Program, info *check.Info, lib *stdlib.Library, opts Options) (out *Output, err error) {
	sized := opts.RingBufferSize != 0
	if !sized {
		opts.RingBufferSize = 1 << 20
	}
	if opts.MaxMapKeys == 0 {
		opts.MaxMapKeys = 4096
	}
	if opts.License == "" {
		opts.License = "GPL"
	}
	c := &compiler{
		src:  src,
		info: info,
		lib:  lib,
		opts: opts,
		errs: &diag.List{Src: src},
		out:  &Output{Specs: map[string]*ebpf.MapSpec{}},
		maps: map[string]*Map{},
	}
	defer func() {
		// An internal invariant failed: report it as an error, never crash
		// the user's session.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal code generator error: %v", r)
		}
	}()
	c.declareInternalMaps()
	c.declareMaps()
	for i, pi := range info.Probes {
		for _, t := range pi.Targets {
			c.out.ProbeNames = append(c.out.ProbeNames, t.Name)
			c.out.ProbeFuncs = append(c.out.ProbeFuncs, t.Func)
		}
		for _, t := range pi.Targets {
			p := c.program(i, pi, t)
			if p != nil {
				c.out.Programs = append(c.out.Programs, p)
			}
		}
	}
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	if !sized && !c.references(EventsMap) {
		// Nothing can write to the ring buffer (the runtime still reads
		// it): the smallest one, a page, is made. Creating 1 MiB takes a
		// fifth of a millisecond longer.
		c.out.Specs[EventsMap].MaxEntries = uint32(os.Getpagesize())
	}
	// Counters no program can increment are not made at all (the runtime
	// reads a missing one as zero): one map less to create each.
	for _, ref := range []string{LostMap, FullMap} {
		if !c.references(ref) {
			delete(c.out.Specs, ref)
		}
	}
	return c.out, nil
}

// references reports whether some program refers to the map ref.
func (c *compiler) references(ref string) bool {
	for _, p := range c.out.Programs {
		for _, ins := range p.Spec.Instructions {
			if ins.Reference() == ref {
				return true
			}
		}
	}
	return false
}

type compiler struct {
	src  *diag.Source
	info *check.Info
	lib  *stdlib.Library
	opts Options
	errs *diag.List
	out  *Output
	maps map[string]*Map
	// scratchSize is the scratch map's value size: the most any program needs.
	scratchSize int
}

func (c *compiler) declareInternalMaps() {
	c.out.Specs[EventsMap] = &ebpf.MapSpec{
		Name:       "gt_events",
		Type:       ebpf.RingBuf,
		MaxEntries: c.opts.RingBufferSize,
	}
	c.out.Specs[StateMap] = &ebpf.MapSpec{
		Name:       "gt_state",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 1,
	}
	c.out.Specs[LostMap] = &ebpf.MapSpec{
		Name:       "gt_lost",
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: LostStacks + 1,
	}
}

// probeIndex returns the `probe` builtin's value for target t.
func (c *compiler) probeIndex(t *probes.Target) int64 {
	for i, n := range c.out.ProbeNames {
		if n == t.Name {
			return int64(i)
		}
	}
	return -1
}

// program generates the program of probe block pi for target t.
func (c *compiler) program(index int, pi *check.ProbeInfo, t *probes.Target) *Program {
	nEvents, nErrs := len(c.out.Events), len(c.errs.Errs)
	g := c.generate(pi, t, false)
	if g.frame.overflow() {
		// Out of stack: generate again, with buffers in the scratch map,
		// forgetting what the first attempt registered.
		c.out.Events, c.errs.Errs = c.out.Events[:nEvents], c.errs.Errs[:nErrs]
		g = c.generate(pi, t, true)
	}
	if g.frame.overflow() {
		c.errs.Add(pi.Probe.At, "this probe needs %d bytes of stack even with its buffers in a scratch map; the kernel allows %d", g.frame.max, maxStack).Hint =
			"use fewer variables in this probe"
		return nil
	}
	if g.scratchMax > c.scratchSize {
		c.scratchSize = g.scratchMax
		c.out.Specs[ScratchMap] = &ebpf.MapSpec{
			Name:       "gt_scratch",
			Type:       ebpf.PerCPUArray,
			KeySize:    4,
			ValueSize:  uint32(c.scratchSize),
			MaxEntries: 1,
		}
	}
	insns, err := resolveJumps(dropUnreachable(g.insns))
	if err != nil {
		c.errs.Add(pi.Probe.At, "%v", err)
		return nil
	}
	name := progName(t.Provider.Name, index)
	if pi.Callbacks {
		// Programs with subprograms must describe their functions.
		insns[0] = btf.WithFuncMetadata(insns[0], funcInfo(name, 1, true))
	}
	return &Program{
		Probe:  index,
		Target: t,
		Spec: &ebpf.ProgramSpec{
			Name:         name,
			Type:         t.Provider.ProgType,
			AttachType:   t.Provider.AttachType,
			AttachTo:     t.AttachTo,
			Instructions: insns,
			License:      c.opts.License,
		},
		StackSize: g.frame.max,
	}
}

// generate writes the instructions of probe block pi for target t.
func (c *compiler) generate(pi *check.ProbeInfo, t *probes.Target, useScratch bool) *gen {
	g := &gen{c: c, target: t, probe: pi, vars: map[*check.Variable]int16{}, labels: new(int)}
	if useScratch || pi.Callbacks {
		g.scratch = &tmp{hasSlot: true}
	}
	g.varsInScratch = pi.Callbacks
	g.at(pi.Probe.At)
	g.prologue()
	g.filterPID()
	body := pi.Probe.Body
	if pi.Probe.Predicate != nil {
		g.at(pi.Probe.Predicate.Pos())
		mark := g.frame.mark()
		g.jumpUnless(pi.Probe.Predicate, g.exitLabel)
		g.frame.reset(mark)
	}
	g.block(body)
	g.at(body.Close)
	g.label(g.exitLabel)
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	g.insns = append(g.insns, g.subprogs...)
	return g
}

// progName is the kernel-visible program name: at most 15 characters of
// [A-Za-z0-9_].
func progName(provider string, index int) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, provider)
	suffix := "_" + strconv.Itoa(index)
	if len(n)+len(suffix) > 15 {
		n = n[:15-len(suffix)]
	}
	return n + suffix
}
