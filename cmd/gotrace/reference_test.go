package main

// Tests of the language reference (reference.md): that it has an entry
// for everything gotrace offers, that its examples compile (and, where
// it shows their output, print exactly that), and that --help TOPIC and
// :help TOPIC find its entries.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Sections of reference.md that the tests know.
const (
	secProbes   = "Probes"
	secVars     = "Variables"
	secFuncs    = "Functions"
	secAggs     = "Aggregations"
	secLanguage = "Language"
	secConfig   = "Config keys"
	secOptions  = "Options"
)

// notCompiled are the entries whose examples use what gotrace does not
// have yet, and why: their examples must fail to compile (so that this
// list is emptied as the features come).
var notCompiled = map[string]string{
	"path":     "path() is not supported yet",
	"override": "override() is not supported yet",
	// bpftrace's FUNC+argN form, the only one asyncwatchpoint has.
	"asyncwatchpoint": "watchpoints on a function's argument are not supported",
}

// extraBuiltins are entries of the Variables and Functions sections that
// are not in stdlib's table: the checker handles them itself.
var extraBuiltins = []string{"args", "__NR_name", "sizeof", "offsetof"}

func loadReference(t *testing.T) *reference {
	t.Helper()
	ref, err := parseReference(referenceText)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestReferenceEntries checks the shape of every entry: a description of
// one line, at least one example, and names that no other entry of the
// section has.
func TestReferenceEntries(t *testing.T) {
	ref := loadReference(t)
	for _, s := range []string{secProbes, secVars, secFuncs, secAggs, secLanguage, secConfig, secOptions} {
		if !slices.Contains(ref.sections, s) {
			t.Errorf("reference.md has no section %q", s)
		}
	}
	for _, e := range ref.entries {
		where := fmt.Sprintf("reference.md:%d: %s", e.line, e.names[0])
		first, _, _ := strings.Cut(e.body, "\n\n")
		if first == "" || strings.Contains(first, "\n") || strings.HasPrefix(first, "```") {
			t.Errorf("%s: the entry does not start with a one-line description", where)
		}
		if len(e.examples) == 0 {
			t.Errorf("%s: no example", where)
		}
		for _, n := range e.names {
			for _, other := range ref.byName[n] {
				if other != e && other.section == e.section {
					t.Errorf("%s: %s also names the entry at line %d", where, n, other.line)
				}
			}
		}
	}
}

// sectionNames are the names of a section's entries.
func sectionNames(ref *reference, section string) map[string]bool {
	names := map[string]bool{}
	for _, e := range ref.entries {
		if e.section == section {
			for _, n := range e.names {
				names[n] = true
			}
		}
	}
	return names
}

// usageFlags are the options the usage text lists, in its options
// section: "-e", "-V", "--version", ...
func usageFlags() []string {
	var flags []string
	re := regexp.MustCompile(`^  (-[-\w]+)(?:, (-[-\w]+))?`)
	_, opts, _ := strings.Cut(usage, "\noptions:\n")
	opts, _, _ = strings.Cut(opts, "\n\n")
	for _, line := range strings.Split(opts, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			flags = append(flags, m[1])
			if m[2] != "" {
				flags = append(flags, m[2])
			}
		}
	}
	return flags
}

// TestReferenceComplete checks that the reference has an entry for every
// builtin variable, function and aggregation of stdlib's table, every
// kind of probe and its aliases, every config key and its older
// spellings and every option of the usage text; and no entry for what
// is none of those.
func TestReferenceComplete(t *testing.T) {
	ref := loadReference(t)
	lib := stdlib.New()
	type want struct {
		section string
		names   []string
	}
	var builtins, aggs []string
	for _, n := range lib.Names() {
		if f, ok := lib.Func(n); ok && f.Kind == stdlib.Aggregation {
			aggs = append(aggs, n)
			continue
		}
		builtins = append(builtins, n)
	}
	var provs []string
	for _, p := range probes.NewRegistry().Providers() {
		provs = append(provs, p.Name)
		provs = append(provs, p.Aliases...)
	}
	var keys []string
	for _, k := range check.ConfigKeys() {
		keys = append(keys, k.Name)
		keys = append(keys, k.Aliases...)
	}
	flags := usageFlags()
	if len(flags) < 10 {
		t.Fatalf("found only %q in the usage's options", flags)
	}
	checks := []want{
		{secProbes, provs},
		{secAggs, aggs},
		{secConfig, keys},
		{secOptions, flags},
	}
	for _, c := range checks {
		have := sectionNames(ref, c.section)
		var missing []string
		for _, n := range c.names {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("reference.md's section %q has no entry for %s", c.section, strings.Join(missing, ", "))
		}
	}
	vars, funcs := sectionNames(ref, secVars), sectionNames(ref, secFuncs)
	var missing []string
	for _, n := range builtins {
		if !vars[n] && !funcs[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("reference.md's sections %q and %q have no entry for %s", secVars, secFuncs, strings.Join(missing, ", "))
	}

	// Entries for nothing: what was removed or renamed.
	known := map[string]map[string]bool{secProbes: {}, secAggs: {}, secConfig: {}, secOptions: {"--": true, "-help": true, "-version": true}, secVars: {}, secFuncs: {}}
	for _, c := range checks {
		for _, n := range c.names {
			known[c.section][n] = true
		}
	}
	for _, n := range append(builtins, extraBuiltins...) {
		known[secVars][n] = true
		known[secFuncs][n] = true
	}
	for _, e := range ref.entries {
		if known[e.section] == nil {
			continue
		}
		for _, n := range e.names {
			if !known[e.section][n] {
				t.Errorf("reference.md:%d: %s in section %q is not a name gotrace knows", e.line, n, e.section)
			}
		}
	}
}

// exampleCase is one example to compile: a program, with the options of
// its command line.
type exampleCase struct {
	entry   *refEntry
	example refExample
	name    string // the test's name
	program string
	opts    runtime.CompileOptions
}

// referenceExamples lists the programs of the reference's examples: the
// gotrace blocks, and the -e programs of the sh blocks' command lines,
// whose arguments must parse.
func referenceExamples(t *testing.T, ref *reference) []exampleCase {
	var cases []exampleCase
	for _, e := range ref.entries {
		for i, ex := range e.examples {
			name := fmt.Sprintf("%s/%d", e.names[0], i+1)
			where := fmt.Sprintf("reference.md:%d", ex.line)
			if ex.kind == "gotrace" {
				cases = append(cases, exampleCase{entry: e, example: ex, name: name, program: ex.text})
				continue
			}
			for _, line := range strings.Split(ex.text, "\n") {
				words, err := shellWords(line)
				if err != nil || len(words) == 0 || words[0] != "gotrace" {
					t.Errorf("%s: %q is not a gotrace command line (%v)", where, line, err)
					continue
				}
				args := words[1:]
				if len(args) == 2 && isHelpFlag(args[0]) {
					if es, _ := ref.lookup(args[1]); len(es) == 0 {
						t.Errorf("%s: %q: no entry for %s", where, line, args[1])
					}
					continue
				}
				o, err := parseArgs(args)
				if err != nil {
					t.Errorf("%s: %q: %v", where, line, err)
					continue
				}
				if o.program == "" {
					continue
				}
				cases = append(cases, exampleCase{entry: e, example: ex, name: name, program: o.program, opts: runtime.CompileOptions{
					Params: o.params, Unsafe: o.unsafe, ChildCommand: o.command != "", PID: o.pid, HelperErrors: o.helpers,
				}})
			}
		}
	}
	return cases
}

// shellWords splits a command line as a shell would, for the simple
// lines of the reference: words, 'single-quoted' and "double-quoted"
// (with \" and \\) text; no pipes, redirections or variables.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("an unterminated quote")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, errors.New("an unterminated quote")
			}
			inWord = true
		case strings.IndexByte("|&;<>$`\\", c) >= 0:
			return nil, fmt.Errorf("%q outside quotes", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`gotrace -e 'BEGIN { printf("%d\n", $1); }' 42`, []string{"gotrace", "-e", `BEGIN { printf("%d\n", $1); }`, "42"}},
		{`gotrace -c "ls -l" x"y"'z'`, []string{"gotrace", "-c", "ls -l", "xyz"}},
		{`  a  b `, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.line)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
	for _, bad := range []string{`gotrace -e 'x`, `gotrace | less`, `gotrace > f`, `echo $HOME`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) did not fail", bad)
		}
	}
}

// TestReferenceExamplesCompile compiles every example: the programs must
// compile, except those of notCompiled's entries, which must not (yet).
// Compiling resolves probes against this machine (tracefs, BTF, kernel
// functions), so it needs the kernel test rules.
func TestReferenceExamplesCompile(t *testing.T) {
	kerneltest.Require(t)
	ref := loadReference(t)
	seen := map[string]bool{}
	for _, c := range referenceExamples(t, ref) {
		t.Run(c.name, func(t *testing.T) {
			_, err := runtime.Compile(c.name, c.program, c.opts)
			why, skip := notCompiled[c.entry.names[0]]
			seen[c.entry.names[0]] = true
			switch {
			case skip && err == nil:
				t.Errorf("reference.md:%d: the example compiles; remove %s from notCompiled (%s) and check the entry", c.example.line, c.entry.names[0], why)
			case skip:
				t.Logf("does not compile, as expected (%s): %v", why, err)
			case err != nil:
				t.Errorf("reference.md:%d: %v", c.example.line, err)
			}
		})
	}
	for n := range notCompiled {
		if !seen[n] {
			t.Errorf("notCompiled names %s, which has no example", n)
		}
	}
}

// TestReferenceExamplesOutput runs the examples whose output the
// reference shows and compares what they print, leading and trailing
// blank lines aside.
func TestReferenceExamplesOutput(t *testing.T) {
	kerneltest.Require(t)
	ref := loadReference(t)
	n := 0
	for _, e := range ref.entries {
		for i, ex := range e.examples {
			if ex.output == nil {
				continue
			}
			n++
			t.Run(fmt.Sprintf("%s/%d", e.names[0], i+1), func(t *testing.T) {
				s, err := runtime.Compile(e.names[0], ex.text, runtime.CompileOptions{})
				if err != nil {
					t.Fatalf("reference.md:%d: %v", ex.line, err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var stdout, stderr bytes.Buffer
				if _, err := s.Run(ctx, runtime.RunOptions{Stdout: &stdout, Stderr: &stderr, Quiet: true}); err != nil {
					t.Fatalf("reference.md:%d: %v\nstderr: %s", ex.line, err, stderr.String())
				}
				if ctx.Err() != nil {
					t.Fatalf("reference.md:%d: the example did not exit by itself", ex.line)
				}
				got, want := strings.Trim(stdout.String(), "\n"), strings.Trim(*ex.output, "\n")
				if got != want {
					t.Errorf("reference.md:%d: the example prints\n%s\nbut the reference shows\n%s", ex.line, got, want)
				}
			})
		}
	}
	if n < 20 {
		t.Errorf("only %d examples show their output", n)
	}
}

// TestHelpLookup checks how topics find entries, and the suggestions for
// topics that find none.
func TestHelpLookup(t *testing.T) {
	ref := loadReference(t)
	tests := []struct {
		topic string
		want  []string // the main names of the entries found, by section
		// suggestion is the name suggested when nothing is found.
		suggestion string
	}{
		{topic: "hist", want: []string{"hist"}},
		{topic: "kprobe", want: []string{"kprobe"}},
		{topic: "k", want: []string{"kprobe"}},
		{topic: "kfunc", want: []string{"fentry"}},
		{topic: "-f", want: []string{"-f"}},
		{topic: "f", want: []string{"fentry"}},
		{topic: "--version", want: []string{"-V"}},
		{topic: "-version", want: []string{"-V"}},
		{topic: "--help", want: []string{"-h"}},
		{topic: "--", want: []string{"--"}},
		{topic: "BEGIN", want: []string{"BEGIN"}},
		{topic: "begin", want: []string{"BEGIN"}},
		{topic: "Hist", want: []string{"hist"}},
		{topic: "hist()", want: []string{"hist"}},
		{topic: "lhist(n, 0, 10, 1)", want: []string{"lhist"}},
		{topic: "kprobe:vfs_read", want: []string{"kprobe"}},
		{topic: "t:syscalls:sys_enter_openat", want: []string{"tracepoint"}},
		{topic: "arg3", want: []string{"arg0"}},
		{topic: "$1", want: []string{"$1"}},
		{topic: "$12", want: []string{"$1"}},
		{topic: "$#", want: []string{"$1"}},
		{topic: "$x", want: []string{"variables"}},
		{topic: "let", want: []string{"variables"}},
		{topic: "@", want: []string{"maps"}},
		{topic: "@bytes", want: []string{"maps"}},
		{topic: "__NR_openat", want: []string{"__NR_name"}},
		{topic: "strlen", want: []string{"strlen", "max_strlen"}},
		{topic: "map_keys_max", want: []string{"max_map_keys"}},
		{topic: "?:", want: []string{"?:"}},
		{topic: "else", want: []string{"if"}},
		{topic: " exit ", want: []string{"exit"}},
		// Nothing found: the closest name, if any is close.
		{topic: "hsit", suggestion: "hist"},
		{topic: "printff", suggestion: "printf"},
		{topic: "kprob", suggestion: "kprobe"},
		{topic: "--verfy", suggestion: "--verify"},
		{topic: "-lv", suggestion: "-l"},
		{topic: "max_map_key", suggestion: "max_map_keys"},
		{topic: "kprobes", suggestion: "kprobe"},
		{topic: "xyzzy"},
		{topic: ""},
	}
	for _, tt := range tests {
		entries, suggestion := ref.lookup(tt.topic)
		var got []string
		for _, e := range entries {
			got = append(got, e.names[0])
		}
		if !slices.Equal(got, tt.want) || suggestion != tt.suggestion {
			t.Errorf("lookup(%q) = %q, suggestion %q; want %q, suggestion %q", tt.topic, got, suggestion, tt.want, tt.suggestion)
		}
	}
}

// TestHelpCommand checks the REPL's :help: alone, the session's help and
// every entry's name; with a topic, the entry as text; with an unknown
// topic, a suggestion on stderr.
func TestHelpCommand(t *testing.T) {
	ref := loadReference(t)
	var stdout, stderr bytes.Buffer
	helpCommand("", &stdout, &stderr)
	if !strings.HasPrefix(stdout.String(), replHelp) || stderr.Len() != 0 {
		t.Errorf(":help: stdout %q, stderr %q; want the session's help first", stdout.String(), stderr.String())
	}
	topics := strings.Fields(strings.TrimPrefix(stdout.String(), replHelp))
	for _, e := range ref.entries {
		if !slices.Contains(topics, e.names[0]) {
			t.Errorf(":help does not list %s", e.names[0])
		}
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if len(line) > 80 {
			t.Errorf(":help writes a line of %d bytes: %q", len(line), line)
		}
	}

	stdout.Reset()
	helpCommand("hist", &stdout, &stderr)
	want := "hist  (Aggregations)\n\nhist(n[, k]): a histogram of n in power-of-two buckets"
	if !strings.HasPrefix(stdout.String(), want) || !strings.Contains(stdout.String(), "\n    BEGIN { @h = hist(1);") ||
		!strings.Contains(stdout.String(), "\n  prints:\n    @h:\n") || stderr.Len() != 0 {
		t.Errorf(":help hist: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "    ") {
			t.Errorf(":help hist writes a line of prose of %d bytes: %q", len(line), line)
		}
	}

	stdout.Reset()
	helpCommand("hsit", &stdout, &stderr)
	if stdout.Len() != 0 || stderr.String() != "gotrace: no help on \"hsit\"; did you mean \"hist\"?\n" {
		t.Errorf(":help hsit: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// TestREPLHelp checks :help in an interactive session on a terminal:
// a topic's entry, a suggestion for an unknown topic, the list of topics,
// and the completion of topics.
func TestREPLHelp(t *testing.T) {
	s := startREPL(t, t.TempDir())
	s.send(":help lhist" + keyEnter)
	s.expect("lhist  (Aggregations)\n\nlhist(n, min, max, step): ")
	s.expect("gotrace> ")
	s.send(":help lhsit" + keyEnter)
	s.expect("gotrace: no help on \"lhsit\"; did you mean \"lhist\"?\ngotrace> ")
	s.send(":help" + keyEnter)
	s.expect("Topics of :help TOPIC:\n  Probes: BEGIN END tracepoint")
	s.expect("gotrace> ")
	s.send(":help kretp" + keyTab)
	s.expect(":help kretprobe")
	s.send(keyEnter)
	s.expect("kretprobe, kr  (Probes)")
	s.expect("gotrace> ")
	s.send(":quit" + keyEnter)
	if status := s.wait(); status != 0 {
		t.Fatalf("exit status %d after :quit, want 0", status)
	}
}

// TestHelpTopicCLI checks gotrace --help TOPIC, which needs no
// privileges.
func TestHelpTopicCLI(t *testing.T) {
	var want bytes.Buffer
	if !writeHelp([]string{"-f"}, &want, &want) {
		t.Fatal("no entry for -f")
	}
	runCases(t, []cliCase{
		{name: "--help -f", args: []string{"--help", "-f"}, stdout: want.String()},
		{name: "-h -f", args: []string{"-h", "-f"}, stdout: want.String()},
		{name: "unknown", args: []string{"--help", "kprob"}, stderr: "gotrace: no help on \"kprob\"; did you mean \"kprobe\"?\n", status: 2},
		{name: "nothing close", args: []string{"--help", "xyzzy"}, stderr: "gotrace: no help on \"xyzzy\"\n", status: 2},
	})
}

// TestUsageListsEveryFlag checks that gotrace --help lists every option
// parseArgs accepts (the short ones of flagsWithValue and shortFlags,
// and the strings its switch cases match), and that it stays short.
func TestUsageListsEveryFlag(t *testing.T) {
	accepted := map[string]bool{"-d": true}
	for _, c := range flagsWithValue + shortFlags {
		accepted["-"+string(c)] = true
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "flags.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "parseArgs" {
			continue
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, "-") {
						accepted[s] = true
					}
				}
			}
			return true
		})
	}
	if len(accepted) < 15 {
		t.Fatalf("found only %d options in parseArgs", len(accepted))
	}
	listed := usageFlags()
	for flag := range accepted {
		// -help and -version are the single-dash spellings of --help and
		// --version.
		if !slices.Contains(listed, flag) && !slices.Contains(listed, "-"+flag) {
			t.Errorf("gotrace --help does not list %s", flag)
		}
	}
	for _, flag := range listed {
		if !accepted[flag] {
			t.Errorf("gotrace --help lists %s, which parseArgs does not accept", flag)
		}
	}
	if n := strings.Count(usage, "\n"); n > 60 {
		t.Errorf("the usage has %d lines; keep it short (details go in reference.md)", n)
	}
	if !strings.Contains(usage, "--help TOPIC") {
		t.Errorf("the usage does not say that --help TOPIC shows the reference")
	}
}
