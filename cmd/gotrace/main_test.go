package main

// End-to-end tests of the gotrace command: TestMain builds the real binary
// once, and every test runs it as a subprocess and checks its exact stdout,
// stderr and exit status. Tests that load BPF programs, or read scripts
// (gotrace checks its privileges first), call kerneltest.Require; the
// others (usage, help, command-line mistakes) run anywhere.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/vmtest"
)

// gotraceBin is the binary TestMain built.
var gotraceBin string

func TestMain(m *testing.M) {
	// Workloads re-execute this test binary; they must not build anything.
	kerneltest.RunWorkload()
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	if vmtest.Inside() {
		// In the VM suite's guest, which has no go command: the harness
		// built gotrace and put it there.
		gotraceBin = vmtest.GotracePath
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "gotrace-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gotraceBin = filepath.Join(dir, "gotrace")
	build := exec.Command("go", "build", "-o", gotraceBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gotrace: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	status         int
}

// runTimeout bounds every run; scripts under test end by themselves.
const runTimeout = 60 * time.Second

// gotrace runs the binary with args (and stdin, if not empty) and waits for
// it. A run that dies of a signal or outlives runTimeout fails the test.
func gotrace(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gotraceBin, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("gotrace %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gotrace %q did not finish within %v\nstdout: %q\nstderr: %q", args, runTimeout, stdout.String(), stderr.String())
	}
	if !cmd.ProcessState.Exited() {
		t.Fatalf("gotrace %q: %v\nstdout: %q\nstderr: %q", args, cmd.ProcessState, stdout.String(), stderr.String())
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// childEnv is the environment of gotrace subprocesses: this process's,
// without the variable that would turn a re-executed test binary into a
// workload.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, kerneltest.WorkloadEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// check compares a run with what was expected, byte for byte.
func (r result) check(t *testing.T, wantStdout, wantStderr string, wantStatus int) {
	t.Helper()
	if r.stdout != wantStdout {
		t.Errorf("stdout differs: %s", diff(r.stdout, wantStdout))
	}
	if r.stderr != wantStderr {
		t.Errorf("stderr differs: %s", diff(r.stderr, wantStderr))
	}
	if r.status != wantStatus {
		t.Errorf("exit status %d, want %d", r.status, wantStatus)
	}
}

// diff describes how got differs from want: both in full when they are
// short, else the first line that differs.
func diff(got, want string) string {
	if len(got)+len(want) < 4000 {
		return fmt.Sprintf("\n got %q\nwant %q", got, want)
	}
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; ; i++ {
		switch {
		case i == len(g) && i == len(w):
			return "(no difference found)"
		case i == len(g):
			return fmt.Sprintf("got %d lines, want %d; first missing line: %q", len(g), len(w), w[i])
		case i == len(w):
			return fmt.Sprintf("got %d lines, want %d; first extra line: %q", len(g), len(w), g[i])
		case g[i] != w[i]:
			return fmt.Sprintf("line %d:\n got %q\nwant %q", i+1, g[i], w[i])
		}
	}
}

// readTestdata returns a file of testdata/cli.
func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cli", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
