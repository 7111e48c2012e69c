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
}

// Script is a compiled script, ready to run.
type Script struct {
	Source *diag.Source
	// AST is the program as checked and compiled: its macros expanded.
	AST  *ast.Program
	Info *check.Info
	Code *codegen.Output

	lib *stdlib.Library // formats values of Special types when printing
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
	info, err := check.Check(src, prog, &check.Config{
		Params: opts.Params,
		Probes: probes.NewRegistry(),
		Env:    env,
		Lib:    lib,
		Unsafe: opts.Unsafe,
	})
	if err != nil {
		return nil, err
	}
	cg := opts.Codegen
	if n := info.Settings.MaxMapKeys; n > 0 {
		cg.MaxMapKeys = uint32(min(n, 1<<24))
	}
	code, err := codegen.Compile(src, prog, info, lib, cg)
	if err != nil {
		return nil, err
	}
	return &Script{Source: src, AST: prog, Info: info, Code: code, lib: lib}, nil
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
