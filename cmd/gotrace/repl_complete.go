package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gotrace/gotrace/runtime"
)

// completionNames are the names the REPL completes, each list sorted.
type completionNames interface {
	// probeKinds are the kinds of probes, with their aliases.
	probeKinds() []runtime.ProbeKind
	// tracepoints are "category:name".
	tracepoints() []string
	// perfEvents are the names after "software:" or "hardware:" (kind).
	perfEvents(kind string) []string
	// kernelFunctions are the functions kprobes attach to.
	kernelFunctions() []string
	// builtins are the builtin variables and the functions.
	builtins() (vars, funcs []string)
	// maps are the session's maps, "@x".
	maps() []string
}

// replCommands are the REPL's commands; those that take an argument end
// with a space, so that completing one leaves the cursor where it goes.
func replCommands() []string {
	return []string{":clear ", ":help ", ":list ", ":load ", ":maps", ":quit"}
}

// completer completes the word before the cursor: commands at the start
// of an input; kinds of probes, tracepoint categories and names, software
// and hardware events and kernel functions where a probe is named; builtins, functions
// and the session's maps inside a block or a predicate.
type completer struct {
	names completionNames
	// pending returns the lines already typed of an unfinished input,
	// which say whether the cursor is inside a block.
	pending func() string
}

// complete is a liner.WordCompleter: line is the line being edited and
// pos the cursor's position in runes. It returns the text before the word
// being completed, the candidates for the word, and the text after the
// cursor.
func (c *completer) complete(line string, pos int) (head string, list []string, tail string) {
	runes := []rune(line)
	pos = min(max(pos, 0), len(runes))
	before, tail := string(runes[:pos]), string(runes[pos:])
	pending := c.pending()
	if pending == "" && strings.HasPrefix(strings.TrimLeft(before, " \t"), ":") {
		head, list = c.command(before)
		return head, list, tail
	}
	text := before
	if pending != "" {
		text = pending + "\n" + before
	}
	st := scan(text)
	switch {
	case st.inComment || st.inString:
		return before, nil, tail
	case st.depth > 0 || st.inPredicate:
		start := wordStart(before, isExprChar)
		return before[:start], c.expression(before[start:]), tail
	}
	if start := wordStart(before, isExprChar); strings.HasPrefix(before[start:], "@") {
		// A map at the top level: a statement such as @x or @x = 0.
		return before[:start], c.expression(before[start:]), tail
	}
	start := wordStart(before, isProbeChar)
	return before[:start], c.probe(before[start:]), tail
}

// command completes a REPL command or its argument.
func (c *completer) command(before string) (string, []string) {
	trimmed := strings.TrimLeft(before, " \t")
	indent := before[:len(before)-len(trimmed)]
	name, _, hasArg := strings.Cut(trimmed, " ")
	if !hasArg {
		return indent, withPrefix(replCommands(), name)
	}
	start := wordStart(before, func(r rune) bool { return r != ' ' && r != '\t' })
	word := before[start:]
	head := before[:start]
	switch name {
	case ":list":
		return head, c.probe(word)
	case ":clear", ":maps":
		return head, withPrefix(c.names.maps(), word)
	case ":load":
		return head, files(word)
	case ":help":
		return head, helpTopics(word)
	}
	return head, nil
}

// probe completes the name of a probe: its kind, then what the kind takes.
func (c *completer) probe(word string) []string {
	parts := strings.Split(word, ":")
	if len(parts) == 1 {
		var out []string
		for _, k := range c.names.probeKinds() {
			if !strings.HasPrefix(k.Name, word) {
				continue
			}
			if k.Name == "BEGIN" || k.Name == "END" {
				out = append(out, k.Name)
			} else {
				out = append(out, k.Name+":")
			}
		}
		return sortedUnique(out)
	}
	kind := parts[0]
	for _, k := range c.names.probeKinds() {
		for _, a := range k.Aliases {
			if a == kind {
				kind = k.Name
			}
		}
	}
	head := strings.Join(parts[:len(parts)-1], ":") + ":"
	last := parts[len(parts)-1]
	var cands []string
	switch {
	case kind == "tracepoint" && len(parts) == 2:
		for _, tp := range c.names.tracepoints() {
			cat, _, _ := strings.Cut(tp, ":")
			cands = append(cands, cat+":")
		}
	case kind == "tracepoint" && len(parts) == 3:
		for _, tp := range c.names.tracepoints() {
			if cat, name, _ := strings.Cut(tp, ":"); cat == parts[1] {
				cands = append(cands, name)
			}
		}
	case kind == "rawtracepoint" && len(parts) == 2:
		// Raw tracepoints are the kernel's trace events; the syscalls:*
		// events are made from raw_syscalls and have none of their own.
		for _, tp := range c.names.tracepoints() {
			if cat, name, _ := strings.Cut(tp, ":"); cat != "syscalls" {
				cands = append(cands, name)
			}
		}
	case (kind == "software" || kind == "hardware") && len(parts) == 2:
		cands = c.names.perfEvents(kind)
	case (kind == "interval" || kind == "profile") && len(parts) == 2:
		cands = []string{"hz:", "ms:", "s:", "us:"}
	case takesKernelFunction(kind) && len(parts) == 2:
		cands = c.names.kernelFunctions()
	}
	var out []string
	for _, cand := range withPrefix(sortedUnique(cands), last) {
		out = append(out, head+cand)
	}
	return out
}

// takesKernelFunction reports whether probes of a kind name a kernel
// function (kprobe:vfs_read), whether or not this build has them yet.
func takesKernelFunction(kind string) bool {
	switch kind {
	case "kprobe", "k", "kretprobe", "kr", "fentry", "f", "fexit", "fr", "kfunc", "kretfunc":
		return true
	}
	return false
}

// expression completes a word inside a block or predicate: the session's
// maps after '@', builtins, and functions with their '('.
func (c *completer) expression(word string) []string {
	switch {
	case strings.HasPrefix(word, "@"):
		return withPrefix(c.names.maps(), word)
	case word == "" || strings.HasPrefix(word, "$"):
		return nil
	}
	vars, funcs := c.names.builtins()
	out := withPrefix(vars, word)
	for _, f := range withPrefix(funcs, word) {
		out = append(out, f+"(")
	}
	return sortedUnique(out)
}

// files completes a file name for :load: directories end with '/'.
func files(word string) []string {
	matches, _ := filepath.Glob(globEscape(word) + "*")
	var out []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			m += string(filepath.Separator)
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wordStart returns the byte offset where the word that ends s starts:
// the longest suffix of s whose runes all satisfy in.
func wordStart(s string, in func(rune) bool) int {
	start := len(s)
	for start > 0 {
		r := []rune(s[:start])
		last := r[len(r)-1]
		if !in(last) {
			break
		}
		start -= len(string(last))
	}
	return start
}

// isProbeChar: runes of a probe's name (tracepoint:sched:sched_switch,
// software:cpu-clock, interval:s:1, wildcards).
func isProbeChar(r rune) bool { return isIdentChar(r) || strings.ContainsRune(":*?-.", r) }

// isExprChar: runes of an identifier, a map or a variable.
func isExprChar(r rune) bool { return isIdentChar(r) || r == '@' || r == '$' }

// withPrefix returns the strings of list that start with prefix.
func withPrefix(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

// sortedUnique sorts s and drops repeats.
func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// machineNames are the completion names of this machine and session,
// each list read the first time it is needed and kept: a session lists
// its probes and functions once.
type machineNames struct {
	sess *runtime.Session

	kinds          []runtime.ProbeKind
	tps            []string
	perf           map[string][]string
	funcs          []string
	vars, builtinF []string
	loaded         map[string]bool
}

func (m *machineNames) once(what string, load func()) {
	if m.loaded == nil {
		m.loaded = map[string]bool{}
	}
	if !m.loaded[what] {
		m.loaded[what] = true
		load()
	}
}

func (m *machineNames) probeKinds() []runtime.ProbeKind {
	m.once("kinds", func() { m.kinds = runtime.ProbeKinds() })
	return m.kinds
}

func (m *machineNames) tracepoints() []string {
	m.once("tracepoints", func() {
		names, _ := runtime.ListProbes("tracepoint:*")
		for _, n := range names {
			if tp, ok := strings.CutPrefix(n, "tracepoint:"); ok {
				m.tps = append(m.tps, tp)
			}
		}
	})
	return m.tps
}

func (m *machineNames) perfEvents(kind string) []string {
	m.once(kind, func() {
		if m.perf == nil {
			m.perf = map[string][]string{}
		}
		names, _ := runtime.ListProbes(kind + ":*")
		for _, n := range names {
			if ev, ok := strings.CutPrefix(n, kind+":"); ok {
				m.perf[kind] = append(m.perf[kind], strings.TrimSuffix(ev, ":"))
			}
		}
	})
	return m.perf[kind]
}

func (m *machineNames) kernelFunctions() []string {
	m.once("functions", func() { m.funcs, _ = runtime.KernelFunctions() })
	return m.funcs
}

func (m *machineNames) builtins() (vars, funcs []string) {
	m.once("builtins", func() { m.vars, m.builtinF = runtime.Builtins() })
	return m.vars, m.builtinF
}

func (m *machineNames) maps() []string { return m.sess.MapNames() }

// helpTopics are the names of the reference's entries that start with
// word.
func helpTopics(word string) []string {
	ref, err := theReference()
	if err != nil {
		return nil
	}
	return withPrefix(ref.names(), word)
}
