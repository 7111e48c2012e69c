// Package stdlib is gotrace's standard library as a table: the builtin
// variables (pid, comm, ...), the functions (printf, str, exit, ...) and the
// aggregations (count, hist, ...). Each entry says what it is called, where
// it may be used, how it is type-checked, how its code is emitted and, for
// aggregations, how its map value is laid out. Adding a builtin means adding
// one entry.
//
// Code generation uses a fixed calling convention so that entries never deal
// with register allocation: an entry's Emit receives its inputs in R1..R5
// (see each kind's doc), may use R0..R5 freely and call helpers, and leaves
// an integer result in R0. The code generator moves values in and out.
package stdlib

import (
	"fmt"
	"slices"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/btf"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Emitter is what table entries may ask of the code generator.
type Emitter interface {
	// Emit appends instructions.
	Emit(insns ...asm.Instruction)
	// Label returns a label name unique within the program; put it on an
	// instruction with WithSymbol and jump to it by name.
	Label() string
	// Target is the probe the program is being generated for.
	Target() *probes.Target
	// LoadArg loads probe argument n (arg0..) into dst. It may clobber R0..R5.
	LoadArg(n int, dst asm.Register)
	// LoadRetval loads the traced function's return value (retval) into
	// dst. It may clobber R0..R5.
	LoadRetval(dst asm.Register)
	// LoadContext loads the program's context pointer (what the kernel
	// passed in R1) into dst, changing no other register: helpers such as
	// bpf_get_stack take it.
	LoadContext(dst asm.Register)
	// LoadStartTime loads the boot-clock nanoseconds at which tracing
	// started (patched in at load time) into dst.
	LoadStartTime(dst asm.Register)
	// Library is the library being generated for (BTF, machine facts).
	Library() *Library
	// TempSlot returns the frame offset (from R10) of 8 bytes of stack
	// the entry may use until it returns, e.g. as a probe_read target.
	TempSlot() int16
	// NoteProcess emits code that reports the current process to user
	// space the first time it is seen, so that its memory mappings are
	// recorded while it runs: entries whose values hold user-space
	// addresses to name later (ustack, usym) call it. It clobbers R0..R5.
	NoteProcess()
	// StackID emits code that takes a stack and leaves its ID in R0 (see
	// stackid.go). take writes the stack, in layout s, to the buffer
	// whose address it finds in R1 (per-CPU scratch memory when the BPF
	// stack has no room for it), the byte count the kernel returned
	// first, and leaves that count in R0 as well: the verifier knows its
	// bounds from bpf_get_stack's, which bound the hash loop. It may
	// clobber R1..R5. The stack is then hashed into its ID
	// and stored in the side map of its layout unless it is there
	// already; a stack that finds the side map full is counted lost.
	// StackID clobbers R0..R5.
	StackID(s StackLayout, take func())
	// CheckHelper follows a call of helper fn: when the script is compiled
	// to report helper errors (-k), a negative return value in R0 is
	// reported to the user, with the position of the call. It keeps R0
	// and may clobber R1..R5.
	CheckHelper(fn asm.BuiltinFunc)
}

// Args describes a call's arguments to a table entry.
type Args struct {
	// Types are the arguments' types.
	Types []*types.Type
	// Ints and Strs hold the values of arguments known at compile time
	// (nil where an argument is not a constant of that kind).
	Ints []*int64
	Strs []*string
	// Bytes holds the values of byte-array arguments known at compile time
	// (pton()). The code generator does not evaluate such an argument: its
	// register is left unset and the entry uses these bytes instead.
	Bytes [][]byte
	// Lib is the library the entry belongs to, for entries that need to
	// know about the machine (kaddr reads /proc/kallsyms).
	Lib *Library
	// Targets are the probes the call runs in: every target of its probe
	// block when it is checked, the one a program is generated for when
	// it is emitted (reg() needs registers; uaddr() looks the symbol up
	// in the probed file).
	Targets []*probes.Target
}

// ArgError is returned by a Check function to blame one argument.
type ArgError struct {
	Index int
	Msg   string
}

func (e *ArgError) Error() string { return e.Msg }

func argErr(i int, format string, args ...any) error {
	return &ArgError{Index: i, Msg: fmt.Sprintf(format, args...)}
}

// Var is a builtin variable.
type Var struct {
	Name string
	Help string
	// Type returns the variable's type in a probe attached to t, or an
	// error saying why the variable is not available there.
	Type func(l *Library, t *probes.Target) (*types.Type, error)
	// Emit computes the value: an integer in R0, or for strings, the bytes
	// written to the buffer whose address is in R1 (Type's Size bytes, zeroed
	// beforehand by the code generator unless Fills is set).
	Emit func(e Emitter)
	// Fills says that Emit writes every byte of a string buffer (padding
	// included), so zeroing it first would be wasted work.
	Fills bool
}

// FuncKind says how the code generator treats a function call.
type FuncKind int

// Function kinds.
const (
	// Value functions compute a value with Emit: arguments arrive in R2..R5
	// (integers by value, strings as the address of a buffer holding them),
	// and R1 holds the destination buffer for string results.
	Value FuncKind = iota
	// Statement functions are built into the code generator (printf, exit,
	// print, delete, clear, zero): the table supplies their checking.
	Statement
	// Aggregation functions are only valid as `@map[...] = f(...)`.
	Aggregation
	// Generated functions have a value that the code generator computes
	// itself (they take maps or compare strings): the table supplies their
	// arity and documentation, the checker their typing.
	Generated
)

// Func is a builtin function.
type Func struct {
	Name string
	Help string
	Kind FuncKind
	// MinArgs and MaxArgs bound the argument count (MaxArgs -1: variadic).
	MinArgs, MaxArgs int
	// Check validates the arguments and returns the result type.
	Check func(a *Args) (*types.Type, error)
	// Emit generates a Value function; see FuncKind.
	Emit func(e Emitter, a *Args)
	// Bytes evaluates, at compile time, a Value function whose value is a
	// byte array that only depends on its constant arguments (pton). The
	// checker records the bytes and only lets the value reach places that
	// use them as a constant, so such a function has no Emit.
	Bytes func(a *Args) []byte
	// Unsafe marks functions that change the system (signal, system,
	// override): bpftrace, and gotrace, run them only with --unsafe.
	Unsafe bool
	// Keywords are bare words the function takes as arguments, such as
	// kstack's stack modes (kstack(perf)): the checker passes them to
	// Check as constant strings instead of looking them up as
	// identifiers.
	Keywords []string
	// Fills says that a Value function with a byte result writes every
	// byte of its buffer, so that the code generator need not zero it
	// first.
	Fills bool
	// Agg describes an Aggregation function.
	Agg *AggSpec
}

// AggSpec describes how an aggregation keeps its value in a per-CPU map.
type AggSpec struct {
	Kind types.AggKind
	// ValueSize is the size in bytes of one CPU's value.
	ValueSize int
	// Bucketed aggregations (hist, lhist) add a u64 bucket number to the map
	// key; Bucket computes it from the value in R1 into R0.
	Bucket func(e Emitter, t *types.Type)
	// Update changes one CPU's value in place: R1 points at it, R2 holds
	// the aggregated expression (if the function takes one).
	Update func(e Emitter)
}

// Library indexes the table by name.
type Library struct {
	vars       map[string]*Var
	funcs      map[string]*Func
	formatters map[string]*Formatter
	machine    machine
	kernel     *btf.Kernel
	strSize    int
	userSyms   userSymbols
	// defaultStackMode is how kstack and ustack print without a mode
	// (the stack_mode setting); "" is bpftrace's.
	defaultStackMode string
	// noDemangle keeps C++ and Rust names mangled in user stacks and
	// usym() (cpp_demangle = false).
	noDemangle bool
	// kernelStacks is set when a script takes kernel stacks (kstack),
	// whose frames are named after the probes are attached (see
	// ProbesAttached).
	kernelStacks bool
	// childCommand is set when a command is started for the script (-c).
	childCommand bool
	// stacks finds the frames that stack values name (stackid.go).
	stacks stackStore
}

// StrSize is the buffer size of strings read with str().
func (l *Library) StrSize() int { return l.strSize }

// SetStrSize changes StrSize (a script's max_strlen setting); the caller
// keeps it within 1..MaxStrSize.
func (l *Library) SetStrSize(n int) { l.strSize = n }

// SetStackMode sets how kstack and ustack print when the script names no
// mode (a script's stack_mode setting): bpftrace, perf or raw.
func (l *Library) SetStackMode(mode string) { l.defaultStackMode = mode }

// stackMode is how stacks print when the script names no mode.
func (l *Library) stackMode() string {
	if slices.Contains(stackModes(), l.defaultStackMode) {
		return l.defaultStackMode
	}
	return stackModeBpftrace
}

// SetDemangle says whether C++ and Rust names are demangled where user
// symbols print (a script's cpp_demangle setting; on by default, as in
// bpftrace).
func (l *Library) SetDemangle(on bool) { l.noDemangle = !on }

// Kernel returns the kernel's types (BTF), read on first use.
func (l *Library) Kernel() *btf.Kernel { return l.kernel }

// NewWithKernel is New with the kernel types taken from k, for tests that
// use BTF other than the running kernel's.
func NewWithKernel(k *btf.Kernel) *Library {
	l := New()
	l.kernel = k
	return l
}

// New builds the library from the tables in vars.go, funcs.go and aggs.go.
func New() *Library {
	l := &Library{vars: map[string]*Var{}, funcs: map[string]*Func{}, formatters: map[string]*Formatter{}, kernel: btf.NewKernel(), strSize: DefaultStrSize}
	for _, f := range slices.Concat(formatters(), userSymbolFormatters(), stackFormatters(), ustackFormatters()) {
		l.formatters[f.Name] = f
	}
	for _, v := range slices.Concat(builtinVars(), childVars(), stackVars(), ustackVars()) {
		l.vars[v.Name] = v
	}
	for _, f := range slices.Concat(builtinFuncs(), aggregations(), specialFuncs(), userSymbolFuncs(), stackFuncs(), ustackFuncs(), []*Func{regFunc()}) {
		l.funcs[f.Name] = f
	}
	for _, v := range pendingVars() {
		if l.vars[v.Name] == nil {
			l.vars[v.Name] = v
		}
	}
	for _, f := range pendingFuncs() {
		if l.funcs[f.Name] == nil {
			l.funcs[f.Name] = f
		}
	}
	return l
}

// Var finds a builtin variable.
func (l *Library) Var(name string) (*Var, bool) {
	v, ok := l.vars[name]
	return v, ok
}

// Func finds a builtin function.
func (l *Library) Func(name string) (*Func, bool) {
	f, ok := l.funcs[name]
	return f, ok
}

// Names lists every variable and function name, for suggestions.
func (l *Library) Names() []string {
	var out []string
	for n := range l.vars {
		out = append(out, n)
	}
	for n := range l.funcs {
		out = append(out, n)
	}
	return out
}
