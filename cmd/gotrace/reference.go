package main

// The language reference (reference.md), built into the binary: one entry
// per probe kind, builtin, function, aggregation, config key and option,
// looked up by `gotrace --help TOPIC` and the REPL's `:help TOPIC`.

import (
	_ "embed"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/gotrace/gotrace/lang/diag"
)

//go:embed reference.md
var referenceText string

// refEntry is one entry of the reference: a "### " heading, which names
// it (several names separated by ", ", the first being its main name),
// and the text below it.
type refEntry struct {
	section string
	names   []string
	// body is the entry's markdown below the heading, trimmed.
	body     string
	examples []refExample
	// line is the heading's line number in reference.md.
	line int
}

// refExample is a fenced block of an entry: a program ("gotrace") or
// command lines ("sh"), and the exact output that follows it, if shown.
type refExample struct {
	kind   string
	text   string
	output *string
	line   int
}

// reference is the parsed reference.md.
type reference struct {
	sections []string
	entries  []*refEntry
	byName   map[string][]*refEntry
}

var (
	refOnce   sync.Once
	refParsed *reference
	refErr    error
)

// theReference parses the built-in reference once. The tests check that
// it parses, so an error here is a build that did not run them.
func theReference() (*reference, error) {
	refOnce.Do(func() { refParsed, refErr = parseReference(referenceText) })
	return refParsed, refErr
}

// parseReference reads the reference's markdown: "## " headings are
// sections, "### " headings entries, and fenced blocks tagged gotrace, sh
// or output are examples and their output.
func parseReference(text string) (*reference, error) {
	r := &reference{byName: map[string][]*refEntry{}}
	var cur *refEntry
	var body []string
	var fence *refExample // the open fenced block, nil outside one
	var fenceLines []string
	section := ""
	finish := func() {
		if cur != nil {
			cur.body = strings.TrimSpace(strings.Join(body, "\n"))
		}
		cur, body = nil, nil
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		n := i + 1
		if fence != nil {
			if strings.TrimSpace(line) == "```" {
				fence.text = strings.Join(fenceLines, "\n")
				if cur != nil {
					if err := cur.addBlock(*fence); err != nil {
						return nil, fmt.Errorf("reference.md:%d: %v", fence.line, err)
					}
				}
				fence = nil
			} else {
				fenceLines = append(fenceLines, line)
			}
			body = append(body, line)
			continue
		}
		switch {
		case strings.HasPrefix(line, "```"):
			fence = &refExample{kind: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
			fenceLines = nil
			body = append(body, line)
		case strings.HasPrefix(line, "### "):
			finish()
			if section == "" {
				return nil, fmt.Errorf("reference.md:%d: an entry before the first section", n)
			}
			cur = &refEntry{section: section, line: n}
			for _, name := range strings.Split(strings.TrimPrefix(line, "### "), ", ") {
				name = strings.TrimSpace(name)
				if name == "" {
					return nil, fmt.Errorf("reference.md:%d: an empty name in %q", n, line)
				}
				cur.names = append(cur.names, name)
				r.byName[name] = append(r.byName[name], cur)
			}
			r.entries = append(r.entries, cur)
		case strings.HasPrefix(line, "## "):
			finish()
			section = strings.TrimSpace(strings.TrimPrefix(line, "## "))
			r.sections = append(r.sections, section)
		default:
			body = append(body, line)
		}
	}
	if fence != nil {
		return nil, fmt.Errorf("reference.md:%d: a fenced block that does not end", fence.line)
	}
	finish()
	return r, nil
}

// addBlock adds a fenced block to the entry: an example, or the output
// of the example before it.
func (e *refEntry) addBlock(b refExample) error {
	switch b.kind {
	case "gotrace", "sh":
		e.examples = append(e.examples, b)
	case "output":
		if len(e.examples) == 0 || e.examples[len(e.examples)-1].output != nil || e.examples[len(e.examples)-1].kind != "gotrace" {
			return fmt.Errorf("an output block must follow a gotrace example")
		}
		out := b.text
		e.examples[len(e.examples)-1].output = &out
	default:
		return fmt.Errorf("a fenced block must be tagged gotrace, sh or output, not %q", b.kind)
	}
	return nil
}

// names lists every name of every entry, sorted, once each.
func (r *reference) names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// lookup finds the entries a topic names: a name of an entry as it is
// written or in another case, a function with its parentheses (hist()),
// a probe with what follows its kind (kprobe:vfs_read), $N, $name,
// @name and __NR_name. When nothing matches, suggestion is the closest
// name, if one is close enough.
func (r *reference) lookup(topic string) (entries []*refEntry, suggestion string) {
	topic = strings.TrimSpace(topic)
	if topic == "" {
		return nil, ""
	}
	for _, t := range topicForms(topic) {
		if es := r.byName[t]; len(es) > 0 {
			return es, ""
		}
	}
	for _, t := range topicForms(topic) {
		for _, n := range r.names() {
			if strings.EqualFold(n, t) {
				return r.byName[n], ""
			}
		}
	}
	best, bestD := "", -1
	for _, n := range r.names() {
		d := diag.EditDistance(topic, n)
		if !diag.CloseEnough(d, len(topic)) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return nil, best
}

// topicForms is what a topic may stand for, in order of preference: a
// positional parameter, scratch variable, map or system call number stands
// for the entry about all of them. (The patterns are compiled here rather
// than when gotrace starts: only help looks topics up.)
func topicForms(topic string) []string {
	paramTopic := regexp.MustCompile(`^\$[0-9]+$`)
	variableTopic := regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*$`)
	forms := []string{topic}
	if i := strings.IndexByte(topic, '('); i > 0 {
		forms = append(forms, topic[:i])
	}
	switch {
	case paramTopic.MatchString(topic):
		forms = append(forms, "$1")
	case variableTopic.MatchString(topic):
		forms = append(forms, "$")
	case strings.HasPrefix(topic, "@"):
		forms = append(forms, "@")
	case strings.HasPrefix(topic, "__NR_"):
		forms = append(forms, "__NR_name")
	case strings.HasPrefix(topic, "-"):
	case strings.Contains(topic, ":"):
		forms = append(forms, topic[:strings.IndexByte(topic, ':')])
	}
	return forms
}

// render writes an entry as plain text for a terminal: its names and
// section, the prose without markdown's backquotes, and the examples
// indented, each output after "prints:".
func (e *refEntry) render(w io.Writer) {
	// inlineCode matches `code` in the prose.
	inlineCode := regexp.MustCompile("`([^`]*)`")
	fmt.Fprintf(w, "%s  (%s)\n\n", strings.Join(e.names, ", "), e.section)
	inFence, output := false, false
	for _, line := range strings.Split(e.body, "\n") {
		switch {
		case strings.HasPrefix(line, "```") && !inFence:
			inFence = true
			output = strings.TrimSpace(strings.TrimPrefix(line, "```")) == "output"
			if output {
				fmt.Fprintln(w, "  prints:")
			}
		case strings.TrimSpace(line) == "```" && inFence:
			inFence = false
		case inFence:
			fmt.Fprintln(w, "    "+line)
		default:
			for _, l := range wrap(inlineCode.ReplaceAllString(line, "$1"), 76) {
				fmt.Fprintln(w, l)
			}
		}
	}
}

// wrap breaks text into lines of at most width bytes at spaces (a
// longer word gets a line of its own).
func wrap(text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line += " " + w
	}
	return append(lines, line)
}

// writeTopics lists every entry's main name, by section, wrapped to fit
// 76 columns.
func (r *reference) writeTopics(w io.Writer) {
	for _, s := range r.sections {
		var names []string
		for _, e := range r.entries {
			if e.section == s {
				names = append(names, e.names[0])
			}
		}
		if len(names) == 0 {
			continue
		}
		line := "  " + s + ":"
		for _, n := range names {
			if len(line)+1+len(n) > 76 {
				fmt.Fprintln(w, line)
				line = "     "
			}
			line += " " + n
		}
		fmt.Fprintln(w, line)
	}
}

// writeHelp writes the reference's entries for each topic to w, and for
// a topic with none a line saying so (with the closest name) to errw. It
// reports whether every topic had an entry.
func writeHelp(topics []string, w, errw io.Writer) bool {
	ref, err := theReference()
	if err != nil {
		fmt.Fprintf(errw, "gotrace: the built-in reference is broken: %v\n", err)
		return false
	}
	ok := true
	first := true
	for _, topic := range topics {
		entries, suggestion := ref.lookup(topic)
		if len(entries) == 0 {
			ok = false
			msg := fmt.Sprintf("gotrace: no help on %q", topic)
			if suggestion != "" {
				msg += fmt.Sprintf("; did you mean %q?", suggestion)
			}
			fmt.Fprintln(errw, msg)
			continue
		}
		for _, e := range entries {
			if !first {
				fmt.Fprintln(w)
			}
			first = false
			e.render(w)
		}
	}
	return ok
}
