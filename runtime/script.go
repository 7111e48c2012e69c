// Package runtime is gotrace's Go API: compile a script, then run it in the
// kernel and receive its output. It loads the programs that codegen wrote,
// attaches them through their probe providers, reads the ring buffer,
// formats records in user space and prints the maps at the end, in the
// layouts bpftrace users know.
//
// The package has no global state: several scripts can be compiled and run
// by one process, and cmd/gotrace is only a thin client of this API.
//
//	s, err := runtime.Compile("-e", `BEGIN { printf("hi\n"); exit(); }`, runtime.CompileOptions{})
//	if err != nil { ... }
//	status, err := s.Run(ctx, runtime.RunOptions{Stdout: os.Stdout, Stderr: os.Stderr})
package runtime

import (
	"fmt"
	"os"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/macro"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// CompileOptions configure compilation.
type CompileOptions struct {
	// Params are the positional parameters $1, $2, ...
	Params []string
	// Env gives probe providers access to the machine (tracefs). Nil
	// means the real machine, mounting tracefs when needed.
	Env *probes.Env
	// Codegen tunes code generation.
	Codegen codegen.Options
	// Unsafe allows functions that change the system, such as signal().
	Unsafe bool
	// Config are settings from outside the script that win over its
	// config block, as bpftrace's BPFTRACE_* environment variables do:
	// "BPFTRACE_MAX_MAP_KEYS" (or "max_map_keys") to "100". Keys that are
	// not settings gotrace knows are ignored.
	Config map[string]string
	// ChildCommand says that the script will run with a command
	// (RunOptions.Command, -c), which makes the cpid builtin available.
	ChildCommand bool
	// PID, if not zero, restricts the script to one process, as
	// bpftrace's -p does (see pid.go); Run fails if there is no such
	// process and ends when it exits.
	PID int
	// HelperErrors makes the programs report failed probe_read helper
	// calls (memory reads, str()) as warnings, as bpftrace's -k does.
	HelperErrors bool

	// loopsAsCallbacks is set when compiling again after the verifier
	// rejected plain loops (see Script.withLoopCallbacks).
	loopsAsCallbacks bool
	// knownMaps are a Session's maps (see Session.Compile).
	knownMaps map[string]check.KnownMap
}

// Limits bpftrace applies unless a script's config says otherwise.
const (
	defaultMaxProbes   = 1024
	defaultMaxBPFProgs = 1024
	defaultMaxCatBytes = 10240
)

// Script is a compiled script, ready to run.
type Script struct {
	Source *diag.Source
	// AST is the program as checked and compiled: its macros expanded.
	AST  *ast.Program
	Info *check.Info
	Code *codegen.Output

	lib  *stdlib.Library // formats values of Special types when printing
	env  *probes.Env     // the machine the probes were resolved on
	opts CompileOptions  // how it was compiled, to compile it again
}

// Compile parses a script, expands its macros, checks it and generates its
// code. name is how errors refer to the source ("-e" or a file name).
// Errors about the script are *diag.List values whose text shows
// file:line:col and a caret.
func Compile(name, text string, opts CompileOptions) (*Script, error) {
	src := &diag.Source{Name: name, Text: text}
	parsed, err := parser.Parse(name, text)
	if err != nil {
		return nil, err
	}
	lib := stdlib.New()
	prog, err := macro.Expand(src, parsed, func(name string) bool {
		_, ok := lib.Func(name)
		return ok
	})
	if err != nil {
		return nil, err
	}
	env := opts.Env
	if env == nil {
		env = &probes.Env{}
	}
	if env.PID == 0 {
		// Probes on user-space programs find their files as the
		// process does.
		env.PID = opts.PID
	}
	// Watchpoints on user-space addresses need to know that there
	// will be a process to watch.
	env.Child = env.Child || opts.ChildCommand
	lib.SetChildCommand(opts.ChildCommand)
	if env.Kernel == nil {
		// One set of kernel types for fentry prototypes and for the
		// script's casts, so that the same struct is the same type.
		env.Kernel = lib.Kernel()
	}
	info, err := check.Check(src, prog, &check.Config{
		Params:           opts.Params,
		Probes:           probes.NewRegistry(),
		Env:              env,
		Lib:              lib,
		Unsafe:           opts.Unsafe,
		Overrides:        opts.Config,
		LoopsAsCallbacks: opts.loopsAsCallbacks,
		KnownMaps:        opts.knownMaps,
	})
	if err != nil {
		return nil, err
	}
	set := info.Settings
	cg := opts.Codegen
	if n := set.MaxMapKeys; n > 0 {
		cg.MaxMapKeys = uint32(min(n, 1<<24))
	}
	if n := set.PerfRBPages; n > 0 {
		cg.RingBufferSize = ringBufferSize(n)
	}
	cg.License = set.License
	cg.HelperErrors = cg.HelperErrors || opts.HelperErrors
	if opts.PID != 0 {
		if opts.PID < 0 || opts.PID > 1<<31-1 {
			return nil, fmt.Errorf("invalid PID %d", opts.PID)
		}
		cg.FilterPID = uint32(opts.PID)
	}
	s := &Script{Source: src, AST: prog, Info: info, lib: lib, env: env, opts: opts}
	if n, limit := s.NumProbes(), orDefault(set.MaxProbes, defaultMaxProbes); int64(n) > limit {
		return nil, fmt.Errorf("the script attaches %d probes, more than max_probes (%d); raise it with config = { max_probes = %d } if you mean it", n, limit, n)
	}
	code, err := codegen.Compile(src, prog, info, lib, cg)
	if err != nil {
		return nil, err
	}
	if n, limit := len(code.Programs), orDefault(set.MaxBPFProgs, defaultMaxBPFProgs); int64(n) > limit {
		return nil, fmt.Errorf("the script needs %d BPF programs, more than max_bpf_progs (%d); raise it with config = { max_bpf_progs = %d } if you mean it", n, limit, n)
	}
	s.Code = code
	return s, nil
}

// orDefault is v, or def when v is not set.
func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// ringBufferSize is the ring buffer size for perf_rb_pages pages: the
// kernel wants a power of two number of pages.
func ringBufferSize(pages int64) uint32 {
	n := uint32(os.Getpagesize())
	for int64(n) < pages*int64(os.Getpagesize()) && n < 1<<30 {
		n <<= 1
	}
	return n
}

// NumProbes is the number of probes the script attaches, BEGIN and END
// included, as bpftrace counts them in "Attached N probes".
func (s *Script) NumProbes() int {
	n := 0
	for _, p := range s.Info.Probes {
		n += len(p.Targets)
	}
	return n
}

// hasPlainLoops reports whether some range or while loop of the script is
// a plain loop, which the verifier must walk iteration by iteration.
func (s *Script) hasPlainLoops() bool {
	found := false
	for _, p := range s.AST.Probes {
		ast.Inspect(p, func(n ast.Node) bool {
			switch l := n.(type) {
			case *ast.ForStmt:
				found = found || (l.Map == nil && !s.Info.LoopCallbacks[l])
			case *ast.WhileStmt:
				found = found || !s.Info.LoopCallbacks[l]
			}
			return !found
		})
	}
	return found
}

// withLoopCallbacks compiles the script again with every loop run as a
// bpf_loop callback. Plain loops are faster, but the verifier rejects
// those whose end it cannot prove (a while loop bounded by a value known
// only at run time), on some kernels with an unhelpful EFAULT.
func (s *Script) withLoopCallbacks() (*Script, error) {
	opts := s.opts
	opts.loopsAsCallbacks = true
	return Compile(s.Source.Name, s.Source.Text, opts)
}
