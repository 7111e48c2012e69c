// Command gotrace runs bpftrace-style tracing scripts.
//
//	gotrace -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
//	gotrace script.gt [ARGS...]
//	gotrace -l 'tracepoint:sched:*'
//
// It is a thin client of package runtime, which does all the work.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/runtime"
)

// version is the gotrace release.
const version = "v0.1.0"

// stdinName is how errors refer to a program read from stdin (FILE "-").
const stdinName = "<stdin>"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 2 && isHelpFlag(args[0]) {
		// --help TOPIC: the reference's entry, whatever TOPIC looks like
		// (--help -f).
		if !writeHelp(args[1:], stdout, stderr) {
			return 2
		}
		return 0
	}
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "gotrace: %v\n\n%s", err, usage)
		return 2
	}
	switch {
	case o.showHelp:
		fmt.Fprint(stdout, usage)
		return 0
	case o.showVer:
		fmt.Fprintf(stdout, "gotrace %s\n", version)
		return 0
	case o.info:
		if err := runtime.WriteInfo(stdout); err != nil {
			printError(stderr, err)
			return 1
		}
		return 0
	case o.list:
		if err := runtime.CheckPrivileges(); err != nil {
			printError(stderr, err)
			return 1
		}
		return listProbes(o.pattern, o.verbose, stdout, stderr)
	}
	if status, ok := interactive(o, &stdin, stdout, stderr); ok {
		return status
	}
	// A run's signal handlers are installed while the script is read and
	// compiled (see interrupts); -d and --verify do not run it.
	var in *interrupts
	if len(o.dump) == 0 && !o.verify {
		in = catchInterrupts()
		defer in.stop()
	}
	name, text := "-e", o.program
	switch {
	case o.program != "" && o.file != "":
		fmt.Fprintf(stderr, "gotrace: give either -e PROGRAM or a FILE, not both\n")
		return 2
	case o.program == "" && o.file == "":
		fmt.Fprintf(stderr, "gotrace: no program given\n\n%s", usage)
		return 2
	case o.file == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "gotrace: reading the program from stdin: %v\n", err)
			return 1
		}
		name, text = stdinName, string(b)
	case o.file != "":
		b, err := os.ReadFile(o.file)
		if err != nil {
			fmt.Fprintf(stderr, "gotrace: %v\n", err)
			return 1
		}
		name, text = o.file, string(b)
	}

	// Everything but -d ast and -d codegen loads programs: say first, as
	// bpftrace does, when this process may not.
	if needsKernel(o) {
		if err := runtime.CheckPrivileges(); err != nil {
			printError(stderr, err)
			return 1
		}
	}
	var argv []string
	if o.command != "" {
		argv = strings.Fields(o.command)
	}
	script, err := runtime.Compile(name, text, runtime.CompileOptions{
		Params:       o.params,
		Unsafe:       o.unsafe,
		Config:       configFromEnv(os.Environ()),
		ChildCommand: argv != nil,
		PID:          o.pid,
		HelperErrors: o.helpers,
	})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	switch {
	case len(o.dump) > 0:
		return dump(script, o.dump, stdout, stderr)
	case o.verify:
		return verify(script, o, stderr)
	}

	out := stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			fmt.Fprintf(stderr, "gotrace: %v\n", err)
			return 1
		}
		defer func() {
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "gotrace: %v\n", err)
			}
		}()
		out = f
	}
	var cmd *exec.Cmd
	if argv != nil {
		// The command's output is not the program's: it goes to gotrace's
		// own stdout and stderr, not to -o's file.
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	}
	in.start()
	status, err := script.Run(in.ctx, runtime.RunOptions{
		Stdout:    out,
		Stderr:    stderr,
		Quiet:     o.quiet,
		Format:    o.format,
		Buffering: o.buffer,
		DryRun:    o.dryRun,
		Verbose:   o.verbose,
		Command:   cmd,
	})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return status
}

// needsKernel reports whether the command line loads programs.
func needsKernel(o *options) bool {
	if len(o.dump) == 0 {
		return true
	}
	return slices.Contains(o.dump, "verifier")
}

// dump handles -d: it prints the stages asked for, in order.
func dump(script *runtime.Script, stages []string, stdout, stderr io.Writer) int {
	for _, what := range stages {
		if err := script.Dump(stdout, what); err != nil {
			printError(stderr, err)
			return 1
		}
	}
	return 0
}

// verify handles --verify: every program is loaded, none attached. It
// prints nothing when all load (but with -v their statistics, on
// stderr), and why the others did not.
func verify(script *runtime.Script, o *options, stderr io.Writer) int {
	stats, err := script.Verify(runtime.VerifyOptions{Stats: o.verbose})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if o.verbose {
		runtime.WriteProgramStats(stderr, stats)
	}
	status := 0
	for _, st := range stats {
		if st.Err != nil {
			if !o.verbose {
				printError(stderr, st.Err)
			}
			status = 1
		}
	}
	if status == 0 && !o.quiet {
		n := len(stats)
		fmt.Fprintf(stderr, "Verified %d program%s\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	return status
}

// printError shows script errors as they are (they carry file:line:col and
// a caret) and other errors with a prefix.
func printError(w io.Writer, err error) {
	var dl *diag.List
	if errors.As(err, &dl) {
		fmt.Fprintln(w, dl.Error())
		return
	}
	fmt.Fprintf(w, "gotrace: error: %v\n", err)
}

// configFromEnv picks bpftrace's BPFTRACE_* variables out of the
// environment: they set config keys (BPFTRACE_MAX_MAP_KEYS=100) and win
// over a script's config block, as in bpftrace.
func configFromEnv(env []string) map[string]string {
	conf := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, "BPFTRACE_") {
			conf[k] = v
		}
	}
	return conf
}
