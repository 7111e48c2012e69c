// Command gotrace runs bpftrace-style tracing scripts.
//
//	gotrace -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
//	gotrace script.gt [ARGS...]
//	gotrace -l 'tracepoint:sched:*'
//
// It is a thin client of package runtime, which does all the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/runtime"
)

// version is the gotrace release.
const version = "v0.1.0"

const usage = `usage: gotrace [options] -e 'PROGRAM' [ARGS...]
       gotrace [options] FILE [ARGS...]
       gotrace [options] - [ARGS...]    (the program is read from stdin)
       gotrace -l [PATTERN]
       gotrace [options] [repl]         (interactive on a terminal; :help)

Runs a bpftrace-style tracing program. ARGS are the program's positional
parameters ($1, $2, ... and $# for their count). Options go before FILE
or the first ARG; use "--" to pass ARGS that start with '-'.

options:
  -e PROGRAM     run PROGRAM
  -q             quiet: do not print "Attached N probes"
  --unsafe       allow functions that change the system (signal, system)
  -l [PATTERN]   list probes (tracepoints, software events) matching PATTERN
  -d [WHAT]      print the AST (ast), the generated code (codegen) or both
                 (all, the default) and exit without running
  -V, --version  print the version
  -h, --help     show this help

Ctrl-C or SIGTERM stops tracing: END probes run, maps print, probes detach.
`

// options are the parsed command line.
type options struct {
	program  string // -e
	file     string
	params   []string
	quiet    bool
	unsafe   bool
	list     bool
	pattern  string
	dump     string
	showHelp bool
	showVer  bool
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// stdinName is how errors refer to a program read from stdin (FILE "-").
const stdinName = "<stdin>"

func parseArgs(args []string) (*options, error) {
	o := &options{}
	haveProgram := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			// End of options, wherever it appears (also after FILE, as
			// with bpftrace's getopt): what follows is FILE, if none was
			// given yet, and the positional parameters, verbatim.
			rest := args[i+1:]
			if len(rest) > 0 && o.program == "" && o.file == "" && !o.list {
				o.file, rest = rest[0], rest[1:]
			} else if len(rest) > 0 && o.list && o.pattern == "" && !haveProgram {
				o.pattern, rest = rest[0], rest[1:]
			}
			o.params = append(o.params, rest...)
			break
		}
		if haveProgram || a == "-" || len(a) < 2 || a[0] != '-' {
			if !haveProgram && o.program == "" && !o.list {
				o.file = a
				haveProgram = true
				continue
			}
			if o.list && o.pattern == "" && !haveProgram {
				o.pattern = a
				continue
			}
			o.params = append(o.params, a)
			haveProgram = true
			continue
		}
		switch a {
		case "-e":
			if i+1 >= len(args) {
				return nil, usageErrorf("-e needs a program")
			}
			i++
			o.program = args[i]
		case "-q":
			o.quiet = true
		case "--unsafe":
			o.unsafe = true
		case "-l":
			o.list = true
		case "-d":
			o.dump = "all"
			if i+1 < len(args) {
				switch args[i+1] {
				case "ast", "codegen", "all":
					i++
					o.dump = args[i]
				}
			}
		case "-h", "--help", "-help":
			o.showHelp = true
		case "-V", "--version", "-version":
			o.showVer = true
		default:
			return nil, usageErrorf("unknown option %s", a)
		}
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	case o.list:
		return listProbes(o.pattern, stdout, stderr)
	}
	if status, ok := interactive(o, &stdin, stdout, stderr); ok {
		return status
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

	script, err := runtime.Compile(name, text, runtime.CompileOptions{Params: o.params, Unsafe: o.unsafe, Config: configFromEnv(os.Environ())})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if o.dump != "" {
		if err := script.Dump(stdout, o.dump); err != nil {
			printError(stderr, err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	status, err := script.Run(ctx, runtime.RunOptions{Stdout: stdout, Stderr: stderr, Quiet: o.quiet})
	if err != nil {
		printError(stderr, err)
		return 1
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
