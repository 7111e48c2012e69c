package probes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/userbin"
)

// UserTarget is what a probe on a user-space program (uprobe, uretprobe,
// usdt) attaches to: a place in an ELF file.
type UserTarget struct {
	// File is the path the probe is attached through (under
	// /proc/PID/root with -p); Path is the file's name as probe names
	// show it.
	File, Path string
	// Offset is where the probe is in the file; Vaddr is the same place as
	// the file's virtual address (for a PIE executable or a library,
	// relative to where it is loaded).
	Offset, Vaddr uint64
	// PIE says that the file is loaded at an address chosen at run time.
	PIE bool
	// PID, if not zero, restricts the probe to one process (-p); the
	// runtime sets it when it attaches.
	PID int
	// RefCtrOffset is the file offset of a USDT probe's semaphore, which
	// the kernel increments while the probe is attached (0: none).
	RefCtrOffset uint64
	// USDT holds a USDT probe's arguments (see usdt.go).
	USDT []USDTArg
	// Binary is the file's symbols (uaddr() looks names up there).
	Binary *userbin.Binary
}

// uprobeProvider is `uprobe:PATH:FUNC`, `uprobe:PATH:FUNC+OFFSET` and
// `uprobe:PATH:ADDRESS` (alias `u`): a breakpoint in a user-space program
// or library, at a function's entry, at an offset into it, or at an
// address. arg0..argN are the argument registers of the function's
// calling convention.
func uprobeProvider() *Provider {
	return userProbeProvider("uprobe", "u", false)
}

// uretprobeProvider is `uretprobe:PATH:FUNC` (alias `ur`): a probe on
// return from a user-space function, with its return value as retval.
func uretprobeProvider() *Provider {
	return userProbeProvider("uretprobe", "ur", true)
}

func userProbeProvider(name, alias string, ret bool) *Provider {
	p := &Provider{
		Name:     name,
		Aliases:  []string{alias},
		Help:     "user function entry: uprobe:PATH:FUNC, uprobe:PATH:FUNC+OFFSET, uprobe:PATH:ADDRESS (PATH: a file, a library such as libc, or a program in $PATH)",
		ProgType: ebpf.Kprobe,
		Access:   RegsArgs,
		Cookie:   true,
		Chain:    true,
		NoArgs:   name + " probes have no args: use arg0..argN",
	}
	if ret {
		p.Help = "user function return: uretprobe:PATH:FUNC"
		p.NoArgN = "uretprobe probes have no arguments: they are gone when the function returns; save them in a uprobe (@arg[tid] = arg0)"
		p.NoArgs = "uretprobe probes have no args: save arguments in a uprobe (@arg[tid] = arg0)"
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		return resolveUprobe(env, p, ap, ret)
	}
	p.Require = func(env *Env, t *Target) error {
		if err := haveUprobes(env); err != nil {
			return fmt.Errorf("%s: %v", t.Spec, err)
		}
		return nil
	}
	p.Attach = func(t *Target, prog *ebpf.Program, cookie uint64) (io.Closer, error) {
		return attachUser(t, prog, cookie, ret)
	}
	userMulti(p, ret)
	p.ListMatching = func(env *Env, pattern string) ([]string, error) {
		ap := AttachSpec{Raw: pattern, Parts: splitAttach(pattern)}
		if len(ap.Parts) == 2 {
			ap.Parts = append(ap.Parts, "*")
		}
		ts, err := resolveUprobe(env, p, ap, ret)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t.Name
		}
		return out, nil
	}
	return p
}

// attachUser attaches a program to a place in a file (uprobe, uretprobe,
// usdt).
func attachUser(t *Target, prog *ebpf.Program, cookie uint64, ret bool) (io.Closer, error) {
	u := t.User
	ex, err := link.OpenExecutable(u.File)
	if err != nil {
		return nil, err
	}
	opts := &link.UprobeOptions{Address: u.Offset, PID: u.PID, Cookie: cookie, RefCtrOffset: u.RefCtrOffset}
	if ret {
		return ex.Uretprobe("", prog, opts)
	}
	return ex.Uprobe("", prog, opts)
}

// userMulti lets a provider of probes on user-space programs attach a
// program to many places with uprobe-multi links (Linux 6.6+): one link
// per file, instead of a perf event per place. Creating perf events is
// fast, but the kernel waits for a grace period when each is closed,
// which for a wildcard's hundreds of probes took half a minute.
func userMulti(p *Provider, ret bool) {
	p.MultiAttachType = ebpf.AttachTraceUprobeMulti
	p.MultiOK = func(t *Target) bool { return t.User != nil }
	p.HaveMulti = func(*Env) bool { return features.HaveBPFLinkUprobeMulti() == nil }
	p.AttachMulti = func(ts []*Target, prog *ebpf.Program, cookies []uint64) (io.Closer, error) {
		return attachUserMulti(ts, prog, cookies, ret)
	}
}

// attachUserMulti attaches prog to targets with one uprobe-multi link per
// file and process.
func attachUserMulti(ts []*Target, prog *ebpf.Program, cookies []uint64, ret bool) (io.Closer, error) {
	type group struct {
		file string
		pid  int
	}
	var order []group
	opts := map[group]*link.UprobeMultiOptions{}
	semaphores := map[group]bool{}
	for i, t := range ts {
		g := group{t.User.File, t.User.PID}
		o := opts[g]
		if o == nil {
			o = &link.UprobeMultiOptions{PID: uint32(t.User.PID)}
			opts[g] = o
			order = append(order, g)
		}
		o.Addresses = append(o.Addresses, t.User.Offset)
		o.Cookies = append(o.Cookies, cookies[i])
		o.RefCtrOffsets = append(o.RefCtrOffsets, t.User.RefCtrOffset)
		semaphores[g] = semaphores[g] || t.User.RefCtrOffset != 0
	}
	var links closers
	for _, g := range order {
		o := opts[g]
		if !semaphores[g] {
			o.RefCtrOffsets = nil
		}
		ex, err := link.OpenExecutable(g.file)
		if err == nil {
			var l link.Link
			if ret {
				l, err = ex.UretprobeMulti(nil, prog, o)
			} else {
				l, err = ex.UprobeMulti(nil, prog, o)
			}
			if err == nil {
				links = append(links, l)
				continue
			}
		}
		links.Close()
		return nil, err
	}
	return links, nil
}

// closers closes several links as one.
type closers []io.Closer

// Close closes every link, returning the first error.
func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// uprobePMU is where the kernel lists the uprobe PMU (Linux 4.17+);
// uprobe_events in tracefs is the older way. A kernel without
// CONFIG_UPROBE_EVENTS has neither.
const uprobePMU = "/sys/bus/event_source/devices/uprobe/type"

// haveUprobes checks that the kernel can create uprobes.
func haveUprobes(env *Env) error {
	if _, err := os.Stat(uprobePMU); err == nil {
		return nil
	}
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(dir + "/uprobe_events"); err == nil {
			return nil
		}
	}
	f := &MachineFeatures{Env: env}
	return &MissingFeature{What: "attach uprobes", Why: f.why("CONFIG_UPROBE_EVENTS",
		"there is no uprobe PMU in /sys/bus/event_source/devices and no uprobe_events in tracefs")}
}

// userRegs is where a probe on a user-space function finds its arguments
// and return value: the C calling convention's registers, or for a
// program built by Go, the registers of Go's internal ABI (Go 1.17+ on
// amd64, 1.18+ on arm64), which its functions use.
func userRegs(goarch string, goABI bool) (*Regs, bool) {
	regs, ok := RegsFor(goarch)
	if !ok || !goABI {
		return regs, ok
	}
	r := *regs
	switch goarch {
	case "amd64":
		// RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11; results from RAX.
		r.Args = []int{80, 40, 88, 112, 104, 72, 64, 56, 48}
	case "arm64":
		// R0..R15; results from R0.
		r.Args = nil
		for i := range 16 {
			r.Args = append(r.Args, 8*i)
		}
	}
	return &r, true
}

// binary reads the ELF file of a user probe, once per Env.
func (e *Env) binary(file string) (*userbin.Binary, error) {
	if b, ok := e.binaries[file]; ok {
		return b, nil
	}
	b, err := userbin.Open(file)
	if err != nil {
		return nil, err
	}
	if e.binaries == nil {
		e.binaries = map[string]*userbin.Binary{}
	}
	e.binaries[file] = b
	return b, nil
}

// locate finds the file a user probe names, and reads it.
func (e *Env) locate(name, raw string) (userbin.File, *userbin.Binary, error) {
	f, err := userbin.Locate(name, e.PID)
	if err != nil {
		return f, nil, fmt.Errorf("%s: %v", raw, err)
	}
	b, err := e.binary(f.Open)
	if err != nil {
		return f, nil, fmt.Errorf("%s: %v", raw, err)
	}
	return f, b, nil
}

func resolveUprobe(env *Env, p *Provider, ap AttachSpec, ret bool) ([]*Target, error) {
	usage := p.Name + ":PATH:FUNC, " + p.Name + ":PATH:FUNC+OFFSET or " + p.Name + ":PATH:ADDRESS"
	if ret {
		usage = "uretprobe:PATH:FUNC"
	}
	if len(ap.Parts) != 3 || ap.Parts[1] == "" || ap.Parts[2] == "" {
		if len(ap.Parts) == 4 && ap.Parts[2] == "cpp" {
			return nil, fmt.Errorf("%s: the cpp qualifier (C++ names as written in the source) is not supported yet; name the function by its mangled name (nm shows it)", ap.Raw)
		}
		return nil, fmt.Errorf("%s needs a file and a function: %s", ap.Parts[0], usage)
	}
	file, bin, err := env.locate(ap.Parts[1], ap.Raw)
	if err != nil {
		return nil, err
	}
	if ret && bin.Go {
		return nil, fmt.Errorf("%s: %s was built by Go, and uretprobes crash Go programs: a uretprobe replaces the function's return address on the stack, which Go's runtime reads when it moves or scans goroutine stacks (fatal error: unknown caller pc); probe the function's return instructions with uprobe:PATH:FUNC+OFFSET instead", ap.Raw, file.Name)
	}
	regs, ok := userRegs(runtime.GOARCH, bin.Go)
	if !ok {
		return nil, fmt.Errorf("%s probes are not supported on %s yet", p.Name, runtime.GOARCH)
	}
	places, err := uprobePlaces(bin, ap.Parts[2], ap.Raw, ret)
	if err != nil {
		return nil, err
	}
	out := make([]*Target, 0, len(places))
	for _, pl := range places {
		off, err := bin.FileOffset(pl.vaddr)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", ap.Raw, err)
		}
		t := &Target{
			Provider: p,
			Name:     p.Name + ":" + file.Name + ":" + pl.name,
			Func:     pl.fn,
			Offset:   pl.vaddr - pl.fnStart,
			Regs:     regs,
			NumArgs:  len(regs.Args),
			Space:    types.User,
			User: &UserTarget{
				File: file.Open, Path: file.Name,
				Offset: off, Vaddr: pl.vaddr, PIE: bin.PIE(),
				Binary: bin,
			},
		}
		if ret {
			t.NumArgs = 0
			t.Retval = types.Uint64
			t.RetvalOffset = regs.Ret
		}
		out = append(out, t)
	}
	return out, nil
}

// uprobePlace is one place a uprobe spec names.
type uprobePlace struct {
	// name is how the probe's name ends: the function, FUNC+OFFSET, or
	// the address as written.
	name string
	// fn is the function the place is in, which `func` prints, and
	// fnStart its address.
	fn             string
	vaddr, fnStart uint64
}

// uprobePlaces resolves the function part of a uprobe: a function (or a
// pattern over the file's functions), FUNC+OFFSET, or an address.
func uprobePlaces(bin *userbin.Binary, spec, raw string, ret bool) ([]uprobePlace, error) {
	if isAddress(spec) {
		addr, err := strconv.ParseUint(spec, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bad address %q", raw, spec)
		}
		fn, off, ok := bin.FunctionAt(addr)
		if !ok {
			return nil, fmt.Errorf("%s: address 0x%x is in no function of %s", raw, addr, bin.Path)
		}
		if ret && off != 0 {
			return nil, fmt.Errorf("%s: a uretprobe needs the address where a function starts; 0x%x is %s+%d", raw, addr, fn.Name, off)
		}
		if err := checkInstruction(bin, fn, off, raw); err != nil {
			return nil, err
		}
		return []uprobePlace{{name: spec, fn: fn.Name, vaddr: addr, fnStart: fn.Value}}, nil
	}
	// An exact name wins over everything else: Go's names have '*'
	// ("main.(*T).M") and C++'s may have '+' (operator+).
	if fn, ok := bin.Function(spec); ok {
		return []uprobePlace{{name: spec, fn: spec, vaddr: fn.Value, fnStart: fn.Value}}, nil
	}
	name, offText, hasOffset := cutOffset(spec)
	if hasOffset {
		if ret {
			return nil, fmt.Errorf("%s: uretprobe takes no offset: it fires when the function returns, wherever that is", raw)
		}
		offset, err := strconv.ParseUint(offText, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bad offset %q: want a number of bytes, such as 16 or 0x10", raw, offText)
		}
		fn, ok := bin.Function(name)
		if !ok {
			return nil, noFunction(bin, name, raw)
		}
		if fn.Size > 0 && offset >= fn.Size {
			return nil, fmt.Errorf("%s: offset %d is past the end of %s, which is %d bytes long", raw, offset, name, fn.Size)
		}
		if err := checkInstruction(bin, fn, offset, raw); err != nil {
			return nil, err
		}
		return []uprobePlace{{name: name + "+" + strconv.FormatUint(offset, 10), fn: name, vaddr: fn.Value + offset, fnStart: fn.Value}}, nil
	}
	if !hasSymbolWildcard(spec) {
		return nil, noFunction(bin, spec, raw)
	}
	if _, err := path.Match(spec, ""); err != nil {
		return nil, fmt.Errorf("%s: bad pattern %q", raw, spec)
	}
	// Several names often share an address (libc's getpid and __getpid):
	// one probe per address, named by the preferred name among those the
	// pattern matches, so that each call fires once.
	var out []uprobePlace
	seen := map[uint64]int{}
	for _, fn := range bin.Functions() {
		if !symbolGlob(spec, fn.Name) {
			continue
		}
		if i, dup := seen[fn.Value]; dup {
			if betterName(fn.Name, out[i].fn) {
				out[i].name, out[i].fn = fn.Name, fn.Name
			}
			continue
		}
		seen[fn.Value] = len(out)
		out = append(out, uprobePlace{name: fn.Name, fn: fn.Name, vaddr: fn.Value, fnStart: fn.Value})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s matches no function of %s", raw, bin.Path)
	}
	slices.SortFunc(out, func(a, b uprobePlace) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// betterName reports whether a is the better of two names of one
// function: fewer leading underscores (getpid over __getpid), then the
// shorter, then the first alphabetically.
func betterName(a, b string) bool {
	ua, ub := len(a)-len(strings.TrimLeft(a, "_")), len(b)-len(strings.TrimLeft(b, "_"))
	if ua != ub {
		return ua < ub
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// isAddress reports whether a uprobe's function part is an address.
func isAddress(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

// cutOffset splits FUNC+OFFSET at its last '+' followed by a number.
func cutOffset(spec string) (name, offset string, ok bool) {
	i := strings.LastIndexByte(spec, '+')
	if i <= 0 || i == len(spec)-1 || spec[i+1] < '0' || spec[i+1] > '9' {
		return spec, "", false
	}
	return spec[:i], spec[i+1:], true
}

// hasSymbolWildcard reports whether a function pattern has '*' or '?'.
// (A '[' is common in C++ names and ends up literal.)
func hasSymbolWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// symbolGlob matches a function name against a pattern in which '*'
// matches any run of characters, '/' included (Go's names have slashes:
// "github.com/x/y.F"), and '?' any one character.
func symbolGlob(pattern, name string) bool {
	const slash = "\x00"
	pattern = strings.ReplaceAll(strings.ReplaceAll(pattern, "[", `\[`), "/", slash)
	ok, _ := path.Match(pattern, strings.ReplaceAll(name, "/", slash))
	return ok
}

// noFunction is the error for a function that a file does not have,
// with the closest names it has.
func noFunction(bin *userbin.Binary, name, raw string) error {
	msg := fmt.Sprintf("%s: %s has no function %s", raw, bin.Path, name)
	best, bestD := "", -1
	for _, fn := range bin.Functions() {
		if abs(len(fn.Name)-len(name)) > 3 {
			continue
		}
		d := diag.EditDistance(name, fn.Name)
		if diag.CloseEnough(d, len(name)) && (bestD < 0 || d < bestD) {
			best, bestD = fn.Name, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf("; did you mean %s?", best)
	}
	if _, ok := bin.Symbol(name); ok {
		msg = fmt.Sprintf("%s: %s in %s is data, not a function", raw, name, bin.Path)
	}
	return errors.New(msg)
}
