package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// cliCase is one run of the binary and its exact expected outcome.
type cliCase struct {
	name  string
	args  []string
	stdin string
	// files are written to a temporary directory before the run. In args,
	// stdout and stderr "FILE:name" stands for the path of file name and
	// "@TMP@" for the directory.
	files      map[string]string
	stdout     string
	stderr     string
	status     int
	needKernel bool
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needKernel {
				kerneltest.Require(t)
			}
			dir := t.TempDir()
			subst := []string{"@TMP@", dir}
			for name, text := range c.files {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				subst = append(subst, "FILE:"+name, p)
			}
			r := strings.NewReplacer(subst...)
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = r.Replace(a)
			}
			gotrace(t, c.stdin, args...).check(t, r.Replace(c.stdout), r.Replace(c.stderr), c.status)
		})
	}
}

// hello is the smallest script that runs in the kernel and ends by itself.
const hello = `BEGIN { printf("hi\n"); exit(); }`

func TestRun(t *testing.T) {
	runCases(t, []cliCase{
		{
			// bpftrace prints two newlines when the script exits, before
			// the maps (here none).
			name:   "hello",
			args:   []string{"-e", hello},
			stdout: "hi\n\n\n", stderr: "Attached 1 probe\n", status: 0,
			needKernel: true,
		},
		{
			name:   "hello quiet",
			args:   []string{"-q", "-e", hello},
			stdout: "hi\n\n\n", stderr: "", status: 0,
			needKernel: true,
		},
		{
			name:   "exit status",
			args:   []string{"-e", `BEGIN { printf("bye\n"); exit(3); }`},
			stdout: "bye\n\n\n", stderr: "Attached 1 probe\n", status: 3,
			needKernel: true,
		},
		{
			name:   "exit status quiet",
			args:   []string{"-q", "-e", `BEGIN { exit(3); }`},
			stdout: "\n\n", stderr: "", status: 3,
			needKernel: true,
		},
		{
			name:   "two probes",
			args:   []string{"-e", `BEGIN { printf("a\n"); exit(); } END { printf("b\n"); }`},
			stdout: "a\nb\n\n\n", stderr: "Attached 2 probes\n", status: 0,
			needKernel: true,
		},
		{
			// Maps print after END, sorted by value, as bpftrace prints them
			// (checked against bpftrace 0.17).
			name: "maps",
			args: []string{"-q", "-e", `BEGIN { @c[1] = count(); @c[2] = count(); @c[2] = count(); @s = sum(5); exit(); } END { printf("end\n"); }`},
			stdout: "end\n\n\n" +
				"@c[1]: 1\n@c[2]: 2\n" +
				"@s: 5\n",
			status:     0,
			needKernel: true,
		},
		{
			// -d prints and exits without loading anything.
			name:   "dump ast",
			args:   []string{"-d", "ast", "-e", `BEGIN { exit(); }`},
			stdout: "(program (probe 1:1 (attach 1:1 \"BEGIN\") (block 1:7..1:17 (expr (call 1:9..1:14 exit)))))\n",
		},
		{
			// The AST shown is the one compiled: macro uses are expanded
			// into block expressions that name the macro, and the
			// definitions are gone.
			name: "dump ast with a macro",
			args: []string{"-d", "ast", "-e", `macro inc($v) { $v++; $v } BEGIN { $n = 0; exit(inc($n)); }`},
			stdout: "(program\n" +
				"  (probe 1:28\n" +
				"    (attach 1:28 \"BEGIN\")\n" +
				"    (block 1:34..1:59\n" +
				"      (assign 1:39 \"=\" (var 1:36 $n) (int 1:41 0))\n" +
				"      (expr\n" +
				"        (call 1:44..1:56 exit\n" +
				"          (blockexpr 1:49..1:55 macro=inc\n" +
				"            (expr (postfix 1:19 \"++\" (var 1:17 $n)))\n" +
				"            (value (var 1:23 $n))))))))\n",
		},
		{
			name:       "program from stdin",
			args:       []string{"-q", "-", "5"},
			stdin:      `BEGIN { printf("stdin %d\n", $1); exit(); }`,
			stdout:     "stdin 5\n\n\n",
			needKernel: true,
		},
	})
}

func TestParams(t *testing.T) {
	const script = `// positional parameters
BEGIN {
	printf("%d %d %d %s\n", $1, $2, $#, str($3));
	exit();
}
`
	const dollars = `BEGIN { printf("%d [%s] [%s]\n", $#, str($1), str($2)); exit(); }`
	runCases(t, []cliCase{
		{
			name:   "file",
			files:  map[string]string{"params.txt": script},
			args:   []string{"FILE:params.txt", "7", "-3", "hello"},
			stdout: "7 -3 3 hello\n\n\n", stderr: "Attached 1 probe\n",
			needKernel: true,
		},
		{
			// Options go before the file; after it everything is a
			// parameter, even what looks like an option.
			name:       "file then option-like params",
			files:      map[string]string{"params.gt": script},
			args:       []string{"-q", "FILE:params.gt", "1", "2", "-q"},
			stdout:     "1 2 3 -q\n\n\n",
			needKernel: true,
		},
		{
			name:       "missing params are zero and empty",
			files:      map[string]string{"p.bt": script},
			args:       []string{"-q", "FILE:p.bt"},
			stdout:     "0 0 0 \n\n\n",
			needKernel: true,
		},
		{
			name:       "-e",
			args:       []string{"-q", "-e", dollars, "abc", "de f"},
			stdout:     "2 [abc] [de f]\n\n\n",
			needKernel: true,
		},
		{
			name:       "-e, option after the program",
			args:       []string{"-e", dollars, "-q", "abc"},
			stdout:     "1 [abc] []\n\n\n",
			needKernel: true,
		},
		{
			// As with bpftrace, "--" ends the options and is not a
			// parameter itself, wherever it appears.
			name:       "-- before params",
			args:       []string{"-q", "-e", dollars, "--", "-x", "y"},
			stdout:     "2 [-x] [y]\n\n\n",
			needKernel: true,
		},
		{
			name:       "-- after the first param",
			args:       []string{"-q", "-e", dollars, "a", "--", "-x"},
			stdout:     "2 [a] [-x]\n\n\n",
			needKernel: true,
		},
		{
			name:       "-- after a file",
			files:      map[string]string{"d.gt": dollars},
			args:       []string{"-q", "FILE:d.gt", "--", "-x", "--"},
			stdout:     "2 [-x] [--]\n\n\n",
			needKernel: true,
		},
		{
			name:       "-- before a file",
			files:      map[string]string{"d.gt": dollars},
			args:       []string{"-q", "--", "FILE:d.gt", "-x"},
			stdout:     "1 [-x] []\n\n\n",
			needKernel: true,
		},
	})
}

// TestCompileErrors checks the exact text of script errors: NAME:LINE:COL,
// the message, the source line (tabs shown as four spaces), a caret under
// the column, an optional hint; status 1 and nothing on stdout. None of
// these scripts reach the kernel, but gotrace checks its privileges before
// it reads a script (as bpftrace does), so they run as root.
func TestCompileErrors(t *testing.T) {
	runCases(t, privileged([]cliCase{
		{
			name: "-e syntax error",
			args: []string{"-e", `BEGIN { printf("hi\n") exit(); }`},
			stderr: `-e:1:24: error: expected ';' before "exit"
BEGIN { printf("hi\n") exit(); }
                       ^
`,
			status: 1,
		},
		{
			name: "-e type error",
			args: []string{"-e", `BEGIN { @x = 1; @x = "s"; exit(); }`},
			stderr: `-e:1:22: error: @x holds int64; cannot assign string[2]
BEGIN { @x = 1; @x = "s"; exit(); }
                     ^
`,
			status: 1,
		},
		{
			name: "-e angle brackets for a block",
			args: []string{"-e", `BEGIN < printf("hello\n"); >`},
			stderr: `-e:1:7: error: unexpected "<", expected '{'
BEGIN < printf("hello\n"); >
      ^
hint: action blocks use braces: write { ... }
`,
			status: 1,
		},
		{
			name: "-e printf arity",
			args: []string{"-e", `BEGIN { printf("%d\n"); exit(); }`},
			stderr: `-e:1:22: error: printf() format has 1 conversion but 0 arguments follow
BEGIN { printf("%d\n"); exit(); }
                     ^
`,
			status: 1,
		},
		{
			// A user-space address means nothing without -p or -c.
			name: "-e watchpoint without a process",
			args: []string{"-e", `watchpoint:0x1000:8:rw { }`},
			stderr: `-e:1:1: error: 0x1000 is a user-space address: name the process whose memory to watch with -p PID or -c CMD (without either, a watchpoint watches a kernel address on every CPU)
watchpoint:0x1000:8:rw { }
^
`,
			status: 1,
		},
		{
			name: "-e watchpoint on a function's argument",
			args: []string{"-c", "true", "-e", `BEGIN { }
w:main+arg0:8:w { }`},
			stderr: `-e:2:1: error: watchpoint:FUNC+argN:LENGTH:MODE (watching the address a function is passed, each time it is called) is not supported: gotrace watches fixed addresses only, watchpoint:ADDRESS:LENGTH:MODE, e.g. watchpoint:0x404020:8:w
w:main+arg0:8:w { }
^
`,
			status: 1,
		},
		{
			name: "-e string parameter used as a number",
			args: []string{"-e", `BEGIN { printf("%d\n", $1); exit(); }`, "abc"},
			stderr: `-e:1:24: error: %d needs an integer, but this is string[4]
BEGIN { printf("%d\n", $1); exit(); }
                       ^
hint: use %s for strings
`,
			status: 1,
		},
		{
			name:  "file syntax error",
			files: map[string]string{"syntax.bt": "// comment\nBEGIN {\n\tprintf(\"a\\n\")\n\texit();\n}\n"},
			args:  []string{"FILE:syntax.bt"},
			stderr: `FILE:syntax.bt:4:2: error: expected ';' before "exit"
    exit();
    ^
`,
			status: 1,
		},
		{
			// Every error is reported, in source order.
			name:  "file type errors",
			files: map[string]string{"types.gt": "BEGIN {\n\t@x = 1;\n\t@x = \"s\";\n\t$y = nosuch(1);\n}\n"},
			args:  []string{"FILE:types.gt"},
			stderr: `FILE:types.gt:3:7: error: @x holds int64; cannot assign string[2]
    @x = "s";
         ^
FILE:types.gt:4:7: error: unknown function nosuch()
    $y = nosuch(1);
         ^
`,
			status: 1,
		},
		{
			name:  "file angle brackets for a block",
			files: map[string]string{"angle.txt": "BEGIN\n<\n  exit();\n>\n"},
			args:  []string{"FILE:angle.txt"},
			stderr: `FILE:angle.txt:2:1: error: unexpected "<", expected '{'
<
^
hint: action blocks use braces: write { ... }
`,
			status: 1,
		},
		{
			name:  "stdin syntax error",
			args:  []string{"-"},
			stdin: "BEGIN {\n  printf(\"a\\n\") exit();\n}\n",
			stderr: `<stdin>:2:17: error: expected ';' before "exit"
  printf("a\n") exit();
                ^
`,
			status: 1,
		},
		{
			name:   "empty stdin",
			args:   []string{"-"},
			stdin:  "",
			stderr: "<stdin>: error: the program has no probes\nhint: a probe is an attach point and an action, e.g. BEGIN { printf(\"hello\\n\"); }\n",
			status: 1,
		},
		{
			name:   "missing file",
			args:   []string{"@TMP@/nosuch.bt"},
			stderr: "gotrace: open @TMP@/nosuch.bt: no such file or directory\n",
			status: 1,
		},
	}))
}

// privileged marks cases that need privileges (see TestCompileErrors).
func privileged(cases []cliCase) []cliCase {
	for i := range cases {
		cases[i].needKernel = true
	}
	return cases
}

func TestUsage(t *testing.T) {
	usage := readTestdata(t, "usage.txt")
	runCases(t, []cliCase{
		{name: "--help", args: []string{"--help"}, stdout: usage},
		{name: "-h", args: []string{"-h"}, stdout: usage},
		{name: "-help", args: []string{"-help"}, stdout: usage},
		{name: "-h wins over a program", args: []string{"-h", "-e", hello}, stdout: usage},
		{name: "--version", args: []string{"--version"}, stdout: "gotrace v0.1.0\n"},
		{name: "-V", args: []string{"-V"}, stdout: "gotrace v0.1.0\n"},
		{
			name:   "unknown flag",
			args:   []string{"--bogus", "-e", hello},
			stderr: "gotrace: unknown option --bogus\n\n" + usage,
			status: 2,
		},
		{
			name:   "unknown short flag",
			args:   []string{"-x"},
			stderr: "gotrace: unknown option -x\n\n" + usage,
			status: 2,
		},
		{
			name:   "no program",
			args:   nil,
			stderr: "gotrace: no program given\n\n" + usage,
			status: 2,
		},
		{
			name:   "only options",
			args:   []string{"-q"},
			stderr: "gotrace: no program given\n\n" + usage,
			status: 2,
		},
		{
			name:   "-e without argument",
			args:   []string{"-e"},
			stderr: "gotrace: -e needs a program\n\n" + usage,
			status: 2,
		},
		{
			name:   "-e without argument after -q",
			args:   []string{"-q", "-e"},
			stderr: "gotrace: -e needs a program\n\n" + usage,
			status: 2,
		},
	})
}

func TestConfigFromEnv(t *testing.T) {
	got := configFromEnv([]string{"PATH=/bin", "BPFTRACE_MAX_MAP_KEYS=10", "BPFTRACE_STACK_MODE=perf=x", "XBPFTRACE_A=1", "BPFTRACE_EMPTY="})
	want := map[string]string{"BPFTRACE_MAX_MAP_KEYS": "10", "BPFTRACE_STACK_MODE": "perf=x", "BPFTRACE_EMPTY": ""}
	if len(got) != len(want) {
		t.Fatalf("configFromEnv = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("configFromEnv[%s] = %q, want %q", k, got[k], v)
		}
	}
}
