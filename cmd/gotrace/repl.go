package main

// The interactive session: `gotrace` without a program on a terminal, or
// `gotrace repl`. See replHelp for what it offers.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/peterh/liner"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime"
)

// replWord is the FILE argument that asks for the interactive session
// (a file of that name is run as ./repl).
const replWord = "repl"

const replHelp = `Type a program (a probe and its block, or several) to run it; Ctrl-C
stops it: END probes run, its maps print, and the prompt comes back.
Input goes on over several lines while a brace is open, or while what
was typed can only be the start of a program (Ctrl-C drops it).

Maps live on between runs: a later program that uses @x without
assigning it sees the @x of the earlier runs, and a trace that adds to
@x again adds to those counts (if it gives @x the same type).

Statements alone run once, in BEGIN, without printing the maps at the
end: print(@x), @x = 0, delete(@x["a"]). A map's name alone prints it.

Tab completes kinds of probes, tracepoint categories and names, kernel
functions, builtins, functions and the session's maps. Up and Down
recall earlier inputs, also those of earlier sessions.

Commands:
  :help [TOPIC]   this text, or the reference's entry for TOPIC: a kind
                  of probe, builtin, function, config key or option
                  (:help hist, :help kprobe, :help -f)
  :list [PATTERN] list probes, as gotrace -l does
  :maps [@m...]   print the session's maps (all, or those named)
  :clear [@m...]  forget the session's maps (all, or those named)
  :load FILE      run the program in FILE
  :quit           leave (so does Ctrl-D on an empty line)
`

// interactive handles a command line that gives no program, or FILE
// "repl". When stdin is a terminal it runs the interactive session and
// returns its exit status with ok set. Otherwise the program is read
// from stdin, as with FILE "-": o.file becomes "-" and *stdin a reader
// that still holds all of it; when stdin is empty, o is left without a
// program, which run reports.
func interactive(o *options, stdin *io.Reader, stdout, stderr io.Writer) (status int, ok bool) {
	if o.program != "" || (o.file != "" && o.file != replWord) {
		return 0, false
	}
	if f, isFile := (*stdin).(*os.File); isFile && isTerminal(f) {
		return runREPL(o, stdout, stderr), true
	}
	br := bufio.NewReader(*stdin)
	*stdin = br
	o.file = ""
	if _, err := br.Peek(1); err == nil {
		o.file = "-"
	}
	return 0, false
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// repl is an interactive session.
type repl struct {
	opts           *options
	stdout, stderr io.Writer
	sess           *runtime.Session
	line           *liner.State
	names          *machineNames
	// pending holds the lines of an input that is not complete yet.
	pending []string
	// history is the history file ("" when there is none); historyErr
	// is set once saving it failed and that was reported.
	history    string
	historyErr bool

	mu sync.Mutex
	// cancel stops the program that runs, nil between programs.
	cancel context.CancelFunc
	// terminated is set when SIGTERM stopped a program: the session
	// ends after it.
	terminated bool
}

// runREPL runs an interactive session on the terminal and returns its
// exit status: 0 after :quit or Ctrl-D.
func runREPL(o *options, stdout, stderr io.Writer) int {
	r := &repl{opts: o, stdout: stdout, stderr: stderr, sess: runtime.NewSession()}
	r.names = &machineNames{sess: r.sess}
	r.line = liner.NewLiner()
	defer r.line.Close()
	r.line.SetCtrlCAborts(true)
	r.line.SetTabCompletionStyle(liner.TabPrints)
	c := &completer{names: r.names, pending: func() string { return strings.Join(r.pending, "\n") }}
	r.line.SetWordCompleter(c.complete)
	r.loadHistory()

	// Ctrl-C at the prompt is liner's (ErrPromptAborted); while a program
	// runs the terminal sends SIGINT, which stops that program only.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go r.handleSignals(sigs, done)

	fmt.Fprintf(stderr, "gotrace %s: type a probe or a statement, :help for help, Ctrl-D to leave\n", version)
	for {
		prompt := "gotrace> "
		if len(r.pending) > 0 {
			prompt = "     ... "
		}
		text, err := r.line.Prompt(prompt)
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			if len(r.pending) == 0 {
				fmt.Fprintln(stderr, "(type :quit or press Ctrl-D to leave)")
			}
			r.pending = nil
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(stdout)
			return 0
		case err != nil:
			fmt.Fprintf(stderr, "gotrace: reading input: %v\n", err)
			return 1
		}
		if quit := r.input(text); quit {
			return 0
		}
		r.mu.Lock()
		terminated := r.terminated
		r.mu.Unlock()
		if terminated {
			return 0
		}
	}
}

// handleSignals stops the running program on SIGINT and SIGTERM. SIGTERM
// between programs ends the session at once, the terminal restored.
func (r *repl) handleSignals(sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sig := <-sigs:
			r.mu.Lock()
			cancel := r.cancel
			if sig == syscall.SIGTERM {
				r.terminated = true
			}
			r.mu.Unlock()
			switch {
			case cancel != nil:
				cancel()
			case sig == syscall.SIGTERM:
				r.line.Close()
				os.Exit(128 + int(syscall.SIGTERM))
			}
		}
	}
}

// input acts on one line typed at the prompt. It returns true for :quit.
func (r *repl) input(text string) (quit bool) {
	if len(r.pending) == 0 {
		if cmd := strings.TrimSpace(text); strings.HasPrefix(cmd, ":") {
			r.remember([]string{cmd})
			return r.command(cmd)
		}
	}
	r.pending = append(r.pending, text)
	all := strings.Join(r.pending, "\n")
	done := strings.TrimSpace(text) == "" && len(r.pending) > 1
	kind := classify(all, done)
	if kind == inputMore {
		return false
	}
	lines := r.pending
	r.pending = nil
	switch kind {
	case inputProgram:
		r.remember(historyEntry(lines))
		r.run(replSource, all, "")
	case inputStatements:
		r.remember(historyEntry(lines))
		r.run(replSource, statementsProgram(all), all)
	}
	return false
}

// command runs a REPL command. It returns true for :quit.
func (r *repl) command(cmd string) (quit bool) {
	name, arg, _ := strings.Cut(cmd, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case ":help", ":h":
		helpCommand(arg, r.stdout, r.stderr)
	case ":list":
		listProbes(arg, false, r.stdout, r.stderr)
	case ":maps":
		if len(r.sess.MapNames()) == 0 {
			fmt.Fprintln(r.stderr, "(no maps yet)")
			break
		}
		if err := r.sess.PrintMaps(r.stdout, strings.Fields(arg)...); err != nil {
			fmt.Fprintf(r.stderr, "gotrace: %v\n", err)
		}
	case ":clear":
		if err := r.sess.Clear(strings.Fields(arg)...); err != nil {
			fmt.Fprintf(r.stderr, "gotrace: %v\n", err)
		}
	case ":load":
		if arg == "" {
			fmt.Fprintln(r.stderr, "gotrace: :load needs a file name")
			break
		}
		b, err := os.ReadFile(arg)
		if err != nil {
			fmt.Fprintf(r.stderr, "gotrace: %v\n", err)
			break
		}
		r.run(arg, string(b), "")
	case ":quit", ":q":
		return true
	default:
		fmt.Fprintf(r.stderr, "gotrace: unknown command %s (:help lists the commands)\n", name)
	}
	return false
}

// helpCommand is :help: with no topic, the session's help and the
// reference's topics; with one, the topic's entry.
func helpCommand(topic string, stdout, stderr io.Writer) {
	if topic != "" {
		writeHelp([]string{topic}, stdout, stderr)
		return
	}
	fmt.Fprint(stdout, replHelp)
	if ref, err := theReference(); err == nil {
		fmt.Fprintln(stdout, "\nTopics of :help TOPIC:")
		ref.writeTopics(stdout)
	}
}

// run compiles and runs a program in the session until it exits or
// Ctrl-C stops it. statements is the text typed when the program is
// statementsProgram of it: errors then point into that text, and there
// is no "Attached" line.
func (r *repl) run(name, program, statements string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}()

	script, err := r.sess.Compile(name, program, runtime.CompileOptions{Params: r.opts.params, Unsafe: r.opts.unsafe, Config: configFromEnv(os.Environ())})
	if err != nil {
		if statements != "" {
			err = statementErrors(err, statements)
		}
		printError(r.stderr, err)
		return
	}
	_, err = r.sess.Run(ctx, script, runtime.RunOptions{Stdout: r.stdout, Stderr: r.stderr, Quiet: r.opts.quiet || statements != ""})
	if err != nil {
		printError(r.stderr, err)
	}
}

// historyFile is where the history is kept: gotrace/history in the XDG
// state directory ($XDG_STATE_HOME, by default ~/.local/state).
func historyFile() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "gotrace", "history"), nil
}

// loadHistory reads the history file, if there is one.
func (r *repl) loadHistory() {
	path, err := historyFile()
	if err != nil {
		fmt.Fprintf(r.stderr, "gotrace: no history: %v\n", err)
		return
	}
	r.history = path
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(r.stderr, "gotrace: reading the history: %v\n", err)
		}
		return
	}
	defer f.Close()
	if _, err := r.line.ReadHistory(f); err != nil {
		fmt.Fprintf(r.stderr, "gotrace: reading the history %s: %v\n", path, err)
	}
}

// remember adds entries to the history and saves it at once, so that
// nothing is lost however the session ends.
func (r *repl) remember(entries []string) {
	for _, e := range entries {
		r.line.AppendHistory(e)
	}
	if r.history == "" || len(entries) == 0 {
		return
	}
	if err := r.saveHistory(); err != nil && !r.historyErr {
		r.historyErr = true
		fmt.Fprintf(r.stderr, "gotrace: saving the history: %v\n", err)
	}
}

// saveHistory writes the history file, creating its directory, through a
// temporary file so that a crash never leaves half of it.
func (r *repl) saveHistory() error {
	if err := os.MkdirAll(filepath.Dir(r.history), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.history), ".history-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := r.line.WriteHistory(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), r.history)
}
