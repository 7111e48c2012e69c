package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/runtime"
)

// TestClassify checks how the REPL reads what was typed: complete
// programs and statements run, open braces, comments and programs cut
// short ask for another line, and other mistakes are compiled to show
// their errors.
func TestClassify(t *testing.T) {
	cases := []struct {
		text string
		done bool // an empty line was entered after text
		want inputKind
	}{
		{"", false, inputEmpty},
		{"   \t", false, inputEmpty},
		{"BEGIN { exit(); }", false, inputProgram},
		{"i:s:1 { exit() }", false, inputProgram},
		{"tracepoint:syscalls:sys_enter_getppid { @n = count(); }", false, inputProgram},
		{"BEGIN {", false, inputMore},
		{"BEGIN {\n  printf(\"a\\n\");", false, inputMore},
		{"BEGIN {\n  printf(\"a\\n\");\n}", false, inputProgram},
		{"BEGIN { if (1) {\n}", false, inputMore},
		{"BEGIN { printf(\"{\\n\"); exit(); }", false, inputProgram},      // a brace in a string
		{"BEGIN { exit(); } // {", false, inputProgram},                   // in a comment
		{"BEGIN { exit(); } /* {", false, inputMore},                      // an open comment
		{"BEGIN { exit(); } /* {\n*/", false, inputProgram},               // closed
		{"BEGIN { print((1,", false, inputMore},                           // parentheses too
		{"tracepoint:syscalls:sys_enter_getppid", false, inputMore},       // the block is missing
		{"tracepoint:syscalls:sys_enter_getppid", true, inputProgram},     // ... and stays so
		{"tracepoint:syscalls:sys_enter_getppid\n/pid", false, inputMore}, // an open predicate
		{"BEGIN {\n", true, inputMore},                                    // open braces wait anyway
		{"print(@x)", false, inputStatements},
		{"@x", false, inputStatements},
		{"@x;", false, inputStatements},
		{"@", false, inputStatements},
		{"@x = 0; @y[1] = 2", false, inputStatements},
		{"delete(@x[\"a\"]);", false, inputStatements},
		{"clear(@x)", false, inputStatements},
		{"BEGIN { exit(); } }", false, inputProgram}, // a stray brace: show the error
		{"BEGIN { 1 + }", false, inputProgram},
		{"@x = ", false, inputMore},
		{"@x = ", true, inputStatements},
		{"@x[1,", false, inputMore},
		{"foo bar", false, inputProgram},
	}
	for _, c := range cases {
		if got := classify(c.text, c.done); got != c.want {
			t.Errorf("classify(%q, %v) = %v, want %v", c.text, c.done, got, c.want)
		}
	}
}

// TestScan checks the nesting of the end of a text.
func TestScan(t *testing.T) {
	cases := []struct {
		text string
		want scanState
	}{
		{"", scanState{}},
		{"BEGIN {", scanState{depth: 1}},
		{"BEGIN { @x[(1", scanState{depth: 3}},
		{"BEGIN { } }", scanState{depth: -1}},
		{`BEGIN { printf("{[(`, scanState{depth: 2, inString: true}},
		{`BEGIN { printf("\"{"`, scanState{depth: 2}},
		{"BEGIN { printf(\"a\nb", scanState{depth: 2}}, // a string ends with its line
		{"BEGIN { /* { ", scanState{depth: 1, inComment: true}},
		{"BEGIN { // {\n", scanState{depth: 1}},
		{"t:a:b /comm", scanState{inPredicate: true}},
		{"t:a:b /comm == 1/ { $x = 4 / 2; ", scanState{depth: 1}},
		{"t:a:b /comm == 1/ { } t:c:d /p", scanState{inPredicate: true}},
	}
	for _, c := range cases {
		if got := scan(c.text); got != c.want {
			t.Errorf("scan(%q) = %+v, want %+v", c.text, got, c.want)
		}
	}
}

// TestStatementErrors checks that errors in statements point into them as
// typed, not into the program they run in.
func TestStatementErrors(t *testing.T) {
	cases := []struct {
		text, want string
	}{
		{"print(@x)", "<input>:1:7: error: @x is never assigned\nprint(@x)\n      ^"},
		{"@nothing", "<input>:1:7: error: @nothing is never assigned\nprint(@nothing)\n      ^"},
		{"$a = 1;\n@y = $b", "<input>:2:6: error: "},
	}
	for _, c := range cases {
		_, err := runtime.Compile(replSource, statementsProgram(c.text), runtime.CompileOptions{})
		if err == nil {
			t.Errorf("%q compiled", c.text)
			continue
		}
		got := statementErrors(err, c.text)
		var dl *diag.List
		if !errors.As(got, &dl) {
			t.Fatalf("%q: %v is not a diag.List", c.text, got)
		}
		if !strings.HasPrefix(got.Error(), c.want) {
			t.Errorf("errors of %q:\n%s\nwant them to start with:\n%s", c.text, got, c.want)
		}
	}
	other := errors.New("verifier")
	if got := statementErrors(other, "x"); got != other {
		t.Errorf("statementErrors changed an error that is not about the text: %v", got)
	}
}

// TestHistoryEntry checks how inputs are kept in the history.
func TestHistoryEntry(t *testing.T) {
	cases := []struct {
		lines, want []string
	}{
		{[]string{"@x"}, []string{"@x"}},
		{[]string{"  BEGIN {", "  exit();", "}  "}, []string{"BEGIN { exit(); }"}},
		{[]string{"BEGIN {", "", "exit(); }"}, []string{"BEGIN { exit(); }"}},
		{[]string{"BEGIN { // why", "exit(); }"}, []string{"BEGIN { // why", "exit(); }"}},
		{[]string{"  "}, nil},
	}
	for _, c := range cases {
		if got := historyEntry(c.lines); !reflect.DeepEqual(got, c.want) {
			t.Errorf("historyEntry(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}

// fakeNames are completion names for tests.
type fakeNames struct{}

func (fakeNames) probeKinds() []runtime.ProbeKind {
	return []runtime.ProbeKind{
		{Name: "BEGIN"}, {Name: "END"},
		{Name: "tracepoint", Aliases: []string{"t"}},
		{Name: "rawtracepoint", Aliases: []string{"rt"}},
		{Name: "interval", Aliases: []string{"i"}},
		{Name: "profile", Aliases: []string{"p"}},
		{Name: "software", Aliases: []string{"s"}},
		{Name: "hardware", Aliases: []string{"h"}},
	}
}

func (fakeNames) tracepoints() []string {
	return []string{"raw_syscalls:sys_enter", "sched:sched_switch", "sched:sched_wakeup", "syscalls:sys_enter_getppid", "syscalls:sys_enter_openat", "syscalls:sys_exit_openat"}
}

func (fakeNames) perfEvents(kind string) []string {
	if kind == "hardware" {
		return []string{"cache-misses", "cpu-cycles"}
	}
	return []string{"cpu-clock", "page-faults"}
}

func (fakeNames) kernelFunctions() []string { return []string{"vfs_open", "vfs_read", "vfs_write"} }

func (fakeNames) builtins() (vars, funcs []string) {
	return []string{"comm", "cpu", "pid"}, []string{"count", "printf", "print"}
}

func (fakeNames) maps() []string { return []string{"@n", "@names", "@x"} }

// TestComplete checks tab completion, word by word.
func TestComplete(t *testing.T) {
	cases := []struct {
		pending string // lines of the input typed before
		line    string // the line, | marks the cursor (at the end without)
		head    string
		want    []string
	}{
		// Kinds of probes, then what each takes.
		{"", "tr", "", []string{"tracepoint:"}},
		{"", "B", "", []string{"BEGIN"}},
		{"", "", "", []string{"BEGIN", "END", "hardware:", "interval:", "profile:", "rawtracepoint:", "software:", "tracepoint:"}},
		{"", "tracepoint:sysc", "", []string{"tracepoint:syscalls:"}},
		{"", "tracepoint:s", "", []string{"tracepoint:sched:", "tracepoint:syscalls:"}},
		{"", "t:sched:sched_s", "", []string{"t:sched:sched_switch"}},
		{"", "tracepoint:syscalls:sys_enter_", "", []string{"tracepoint:syscalls:sys_enter_getppid", "tracepoint:syscalls:sys_enter_openat"}},
		{"", "tracepoint:nosuch:", "", nil},
		{"", "rawtracepoint:s", "", []string{"rawtracepoint:sched_switch", "rawtracepoint:sched_wakeup", "rawtracepoint:sys_enter"}},
		{"", "software:p", "", []string{"software:page-faults"}},
		{"", "h:c", "", []string{"h:cache-misses", "h:cpu-cycles"}},
		{"", "interval:", "", []string{"interval:hz:", "interval:ms:", "interval:s:", "interval:us:"}},
		{"", "kprobe:vfs_r", "", []string{"kprobe:vfs_read"}},
		{"", "kr:vfs_w", "", []string{"kr:vfs_write"}},
		{"", "fentry:vfs_", "", []string{"fentry:vfs_open", "fentry:vfs_read", "fentry:vfs_write"}},
		{"", "BEGIN { exit(); } tracepoint:sched:sched_w", "BEGIN { exit(); } ", []string{"tracepoint:sched:sched_wakeup"}},
		{"", "BEGIN, t:sched:sched_w", "BEGIN, ", []string{"t:sched:sched_wakeup"}},
		// Inside blocks and predicates: builtins, functions, maps.
		{"", "BEGIN { @x[co", "BEGIN { @x[", []string{"comm", "count("}},
		{"", "BEGIN { pri", "BEGIN { ", []string{"print(", "printf("}},
		{"", "t:a:b /c", "t:a:b /", []string{"comm", "count(", "cpu"}},
		{"", "BEGIN { print(@n", "BEGIN { print(", []string{"@n", "@names"}},
		{"", "BEGIN { $p", "BEGIN { ", nil},
		{"", "BEGIN { printf(\"co", "BEGIN { printf(\"co", nil},
		{"BEGIN {", "  printf(\"%s\", co", "  printf(\"%s\", ", []string{"comm", "count("}},
		{"BEGIN {\n}", "tracepoint:sysc", "", []string{"tracepoint:syscalls:"}},
		// The cursor in the middle of the line.
		{"", "BEGIN { @x = co|; }", "BEGIN { @x = ", []string{"comm", "count("}},
		// Statements are at the top level: a map's name still completes.
		{"", "@na", "", []string{"@names"}},
		{"", "@x = 1; print(@", "@x = 1; print(", []string{"@n", "@names", "@x"}},
		// Commands and their arguments.
		{"", ":l", "", []string{":list ", ":load "}},
		{"", ":", "", []string{":clear ", ":help ", ":list ", ":load ", ":maps", ":quit"}},
		{"", ":help hi", ":help ", []string{"hist"}},
		{"", ":help --v", ":help ", []string{"--verify", "--version"}},
		{"", ":list tracepoint:sched:", ":list ", []string{"tracepoint:sched:sched_switch", "tracepoint:sched:sched_wakeup"}},
		{"", ":clear @n", ":clear ", []string{"@n", "@names"}},
		{"", ":maps @n @x", ":maps @n ", []string{"@x"}},
		{"", ":quit x", ":quit ", nil},
		// A command only starts an input.
		{"BEGIN {", ":l", ":", nil},
	}
	for _, c := range cases {
		line, pos := c.line, len([]rune(c.line))
		if i := strings.Index(line, "|"); i >= 0 {
			line = line[:i] + line[i+1:]
			pos = len([]rune(line[:i]))
		}
		comp := &completer{names: fakeNames{}, pending: func() string { return c.pending }}
		head, got, tail := comp.complete(line, pos)
		if head != c.head || !reflect.DeepEqual(got, c.want) || tail != string([]rune(line)[pos:]) {
			t.Errorf("complete(%q after %q) = %q, %q, %q; want head %q, candidates %q", c.line, c.pending, head, got, tail, c.head, c.want)
		}
	}
}
