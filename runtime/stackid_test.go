package runtime_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/vmtest"
)

// stackKinds are the stack builtins the stack ID tests take. On the VM
// suite's 6.1 kernel the kernel stacks of tracepoints are empty (as they
// were before stacks were IDs), so there only user stacks are tested.
func stackKinds() []string {
	if vmtest.Inside() {
		return []string{"ustack"}
	}
	return []string{"kstack", "ustack"}
}

// stackIDScript takes two different stacks of one kind (STACK) into one
// map: those of getppid's entry and of close's exit (for the workload's
// closes of a descriptor that is not open, which fail with EBADF).
const stackIDScript = `
tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @[STACK] = count(); @enter = STACK; }
tracepoint:syscalls:sys_exit_close /comm == "gtwork" && args.ret == -9/ { @[STACK] = count(); printf("%s|\n", STACK); }`

const stackIDWorkload = "getppid 7; close 3 99999"

// stackFrame matches a frame as bpftrace mode prints it (sym+off, or an
// address), and not the line of a lost stack.
const stackFrame = `[^\[\s][^\n]*`

// A stack value is an ID that names frames stored once: the same stack
// taken many times is one map key, counted exactly, a different stack is
// another key, and the stacks print as their frames wherever they go: map
// keys, a map value, and printf, whose record carries only the ID through
// the ring buffer.
func TestStackIDs(t *testing.T) {
	kerneltest.Require(t)
	frames := `((?:    ` + stackFrame + `\n)+)`
	layout := regexp.MustCompile(`^((?:\n(?:        ` + stackFrame + `\n)+\|\n){3})\n\n` +
		`@\[\n` + frames + `\]: 3\n` +
		`@\[\n` + frames + `\]: 7\n` +
		`@enter: \n((?:        ` + stackFrame + `\n)+)\n$`)
	for _, kind := range stackKinds() {
		t.Run(kind, func(t *testing.T) {
			script := strings.ReplaceAll(stackIDScript, "STACK", kind)
			out, stderr, _ := runScript(t, "stackids.gt", script, nil, stackIDWorkload, 10*time.Second)
			m := layout.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("output does not have the expected layout:\n%s\nstderr: %s", out, stderr)
			}
			printed, closeKey, getppidKey, enter := m[1], strings.Fields(m[2]), strings.Fields(m[3]), strings.Fields(m[4])
			if strings.Join(closeKey, " ") == strings.Join(getppidKey, " ") {
				t.Errorf("the two stacks are the same, %q: the test needs different ones", closeKey)
			}
			for i, p := range strings.Split(strings.TrimSuffix(printed, "|\n"), "|\n") {
				if got := strings.Fields(p); strings.Join(got, " ") != strings.Join(closeKey, " ") {
					t.Errorf("printf %d printed %q, want the stack of the close key %q", i, got, closeKey)
				}
			}
			if strings.Join(enter, " ") != strings.Join(getppidKey, " ") {
				t.Errorf("@enter is %q, want the stack of the getppid key %q", enter, getppidKey)
			}
			if strings.Contains(stderr, "WARNING") {
				t.Errorf("unexpected warning: %s", stderr)
			}
		})
	}
}

// A stack that finds its side map full is lost, and the run is honest
// about it: it prints as a lost stack, and a warning at the end says how
// many stacks were not stored. With room for one stack, getppid's, taken
// first, is stored, and each of the six close stacks (three events, each
// taking the stack for the map and for printf) is lost.
func TestLostStacks(t *testing.T) {
	kerneltest.Require(t)
	lost := `\[lost stack 0x[0-9a-f]+: the stack map was full\]`
	layout := regexp.MustCompile(`^(?:\n        ` + lost + `\n\|\n){3}\n\n` +
		`@\[\n    ` + lost + `\n\]: 3\n` +
		`@\[\n(?:    ` + stackFrame + `\n)+\]: 7\n` +
		`@enter: \n(?:        ` + stackFrame + `\n)+\n$`)
	for _, kind := range stackKinds() {
		t.Run(kind, func(t *testing.T) {
			script := kerneltest.Script(strings.ReplaceAll(stackIDScript, "STACK", kind))
			s, err := runtime.Compile("lost.gt", script, runtime.CompileOptions{Codegen: codegen.Options{MaxStacks: 1}})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			var werr error
			_, err = s.Run(ctx, runtime.RunOptions{Stdout: &stdout, Stderr: &stderr, Quiet: true, OnAttached: func() {
				werr = kerneltest.Workload(stackIDWorkload).Run()
				cancel()
			}})
			if err != nil || werr != nil {
				t.Fatalf("run: %v, workload: %v\nstderr: %s", err, werr, stderr.String())
			}
			if !layout.MatchString(stdout.String()) {
				t.Errorf("output does not show the close stacks as lost and getppid's as stored:\n%s", stdout.String())
			}
			want := "WARNING: the stack map is full (1 stacks): 6 stacks were lost, and print as [lost stack ID]\n"
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
		})
	}
}

// A session keeps the stacks its maps' keys name: a later script that
// takes no stacks prints them, and a later trace adds to their counts.
func TestSessionStacks(t *testing.T) {
	kerneltest.Require(t)
	sess := runtime.NewSession()
	trace := `tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @[kstack] = count(); }`
	key := regexp.MustCompile(`^@\[\n((?:    ` + stackFrame + `\n)+)\]: (\d+)\n$`)
	stack := func(what, out string, count string) string {
		t.Helper()
		m := key.FindStringSubmatch(out)
		if m == nil || m[2] != count {
			t.Fatalf("%s printed %q, want one stack counted %s", what, out, count)
		}
		return m[1]
	}

	out, _ := sessionRun(t, sess, trace, "getppid 4")
	first := stack("the first trace", strings.TrimPrefix(out, "\n\n"), "4")
	out, _ = sessionRun(t, sess, `config = { print_maps_on_exit = false } BEGIN { print(@); exit(); }`, "")
	if got := stack("a script that reads the map", out, "4"); got != first {
		t.Errorf("a script that reads the map printed the stack\n%s, want\n%s", got, first)
	}
	out, _ = sessionRun(t, sess, trace, "getppid 2")
	if got := stack("the second trace", strings.TrimPrefix(out, "\n\n"), "6"); got != first {
		t.Errorf("the second trace printed the stack\n%s, want\n%s", got, first)
	}
}
