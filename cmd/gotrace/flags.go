package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/runtime"
)

const usage = `usage: gotrace [options] -e 'PROGRAM' [ARGS...]
       gotrace [options] FILE [ARGS...]
       gotrace [options] - [ARGS...]    (the program is read from stdin)
       gotrace -l [PATTERN]
       gotrace --info
       gotrace [options] [repl]         (interactive on a terminal; :help)

Runs a bpftrace-style tracing program. ARGS are the program's positional
parameters ($1, $2, ... and $# for their count). Options go before FILE
or the first ARG; use "--" to pass ARGS that start with '-'.

options:
  -e PROGRAM     run PROGRAM
  -f FORMAT      output format: text (the default) or json (one JSON
                 object per line)
  -o FILE        write the program's output to FILE instead of stdout
  -B MODE        output buffering: none, line (write at each newline) or
                 full; by default output is written as soon as no event
                 is waiting
  -q             quiet: do not print "Attached N probes"
  -v             verbose: print each program's size and the verifier's
                 statistics (instructions processed, ...)
  -k             warn when a memory read (str(), fields, *p) fails
  -c 'CMD ARGS'  run CMD once the probes are attached (they see its execve);
                 cpid is its PID, and tracing ends when it exits
  -p PID         trace process PID only (tracepoints are filtered; perf
                 events, uprobes and watchpoints attached to it, files found
                 in its root); end when it exits
  --unsafe       allow functions that change the system (signal, system)
  --dry-run      load the programs and attach the probes, then exit
  --verify       load every program into the kernel's verifier, attach
                 nothing, and exit (status 0 when all load)
  -d WHAT        print the AST (ast), the generated code (codegen), the
                 verifier's log (verifier, loads the programs) or all of
                 them (all, the default), then exit without running
  -l [PATTERN]   list probes matching PATTERN (tracepoints, kprobes, fentry,
                 software and hardware events; the uprobes and usdt probes
                 of the file the pattern names); with -v, their arguments
                 (-lv 'fentry:tcp_connect', -lv 'usdt:/usr/bin/python3:*')
  --info         print what the kernel supports (probe kinds, program and
                 map types, helpers, BTF)
  -V, --version  print the version
  -h, --help     show this help; --help TOPIC shows the reference's entry
                 for a probe, builtin, function, config key or option
                 (--help hist, --help kprobe, --help -f)

Exit status: 0, or N after exit(N); 1 for errors in the program, probes
or privileges; 2 for a wrong command line. Ctrl-C or SIGTERM stops
tracing: END probes run, maps print, probes detach.
`

// options are the parsed command line.
type options struct {
	program  string // -e
	file     string
	params   []string
	quiet    bool
	verbose  bool
	unsafe   bool
	list     bool
	pattern  string
	dump     []string // -d stages: ast, codegen, verifier
	format   runtime.Format
	output   string // -o
	buffer   runtime.Buffering
	helpers  bool   // -k
	command  string // -c
	pid      int    // -p
	dryRun   bool
	verify   bool
	info     bool
	showHelp bool
	showVer  bool
}

// isHelpFlag reports whether arg asks for the help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// dumpStages are the values of -d; "all" means the three.
func dumpStages() []string { return []string{"ast", "codegen", "verifier"} }

// parseDump reads -d's value: a stage, "all", or stages separated by
// commas. ok is false when s is none of these.
func parseDump(s string) (stages []string, ok bool) {
	for _, part := range strings.Split(s, ",") {
		switch part {
		case "all":
			stages = append(stages, dumpStages()...)
		case "ast", "codegen", "verifier":
			stages = append(stages, part)
		default:
			return nil, false
		}
	}
	return stages, true
}

// flagsWithValue are the short options that take a value, given either
// as the next argument (-o FILE) or attached (-oFILE).
const flagsWithValue = "efoBcp"

// shortFlags are the short options without a value, which may be grouped
// (-qv).
const shortFlags = "qvklhV"

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
		// value returns the value of option flag: the rest of a (-oFILE)
		// or the next argument.
		value := func(flag, what string) (string, error) {
			if len(a) > 2 && a[1] != '-' {
				return a[2:], nil
			}
			if i+1 >= len(args) {
				return "", usageErrorf("%s needs %s", flag, what)
			}
			i++
			return args[i], nil
		}
		if a[1] != '-' && strings.IndexByte(flagsWithValue, a[1]) >= 0 {
			flag := a[:2]
			var err error
			switch flag {
			case "-e":
				o.program, err = value(flag, "a program")
			case "-f":
				var v string
				if v, err = value(flag, "a format (text or json)"); err == nil {
					if o.format, err = runtime.ParseFormat(v); err != nil {
						err = &usageError{err.Error()}
					}
				}
			case "-o":
				o.output, err = value(flag, "a file name")
			case "-B":
				var v string
				if v, err = value(flag, "a mode (none, line or full)"); err == nil {
					if o.buffer, err = runtime.ParseBuffering(v); err != nil {
						err = &usageError{err.Error()}
					}
				}
			case "-c":
				o.command, err = value(flag, "a command")
				if err == nil && strings.TrimSpace(o.command) == "" {
					err = usageErrorf("-c needs a command")
				}
			case "-p":
				var v string
				if v, err = value(flag, "a process ID"); err == nil {
					n, perr := strconv.Atoi(v)
					if perr != nil || n <= 0 {
						err = usageErrorf("-p needs a process ID, not %q", v)
					}
					o.pid = n
				}
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		switch a {
		case "--unsafe":
			o.unsafe = true
		case "--dry-run":
			o.dryRun = true
		case "--verify":
			o.verify = true
		case "--info":
			o.info = true
		case "-d":
			o.dump = dumpStages()
			if i+1 < len(args) {
				if stages, ok := parseDump(args[i+1]); ok {
					i++
					o.dump = stages
				}
			}
		case "--help", "-help":
			o.showHelp = true
		case "--version", "-version":
			o.showVer = true
		default:
			if strings.HasPrefix(a, "-d") && len(a) > 2 {
				stages, ok := parseDump(a[2:])
				if !ok {
					return nil, usageErrorf("-d: unknown stage %q (valid: ast, codegen, verifier, all)", a[2:])
				}
				o.dump = stages
				continue
			}
			if a[1] == '-' || strings.Trim(a[1:], shortFlags) != "" {
				return nil, usageErrorf("unknown option %s", a)
			}
			for _, c := range a[1:] {
				switch c {
				case 'q':
					o.quiet = true
				case 'v':
					o.verbose = true
				case 'k':
					o.helpers = true
				case 'l':
					o.list = true
				case 'h':
					o.showHelp = true
				case 'V':
					o.showVer = true
				}
			}
		}
	}
	return o, o.validate()
}

// validate rejects combinations that make no sense.
func (o *options) validate() error {
	if o.showHelp || o.showVer {
		return nil
	}
	switch {
	case o.command != "" && o.pid != 0:
		return usageErrorf("-c and -p cannot be used together")
	case o.dryRun && o.verify:
		return usageErrorf("--dry-run and --verify cannot be used together")
	}
	return nil
}
