package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestOutputFile checks -o: the program's output goes to the file (created
// or truncated), gotrace's messages stay on stderr.
func TestOutputFile(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:       "unwritable",
			args:       []string{"-o", "@TMP@/no/such/dir/out", "-e", hello},
			stderr:     "gotrace: open @TMP@/no/such/dir/out: no such file or directory\n",
			status:     1,
			needKernel: true,
		},
		{
			name:   "missing file name",
			args:   []string{"-e", hello, "-o"},
			stderr: "gotrace: -o needs a file name\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
	kerneltest.Require(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-e", `BEGIN { printf("hi\n"); @x = 1; exit(); }`}, "hi\n\n\n@x: 1\n"},
		{[]string{"-f", "json", "-e", `BEGIN { printf("hi\n"); exit(); }`},
			`{"type": "attached_probes", "count": 1, "data": {"probes": 1}}` + "\n" + `{"type": "printf", "data": "hi\n"}` + "\n"},
	} {
		out := filepath.Join(dir, "out")
		if err := os.WriteFile(out, []byte("old contents that must go\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := gotrace(t, "", append([]string{"-o", out}, tt.args...)...)
		wantStderr := ""
		if tt.args[0] == "-e" {
			wantStderr = "Attached 1 probe\n"
		}
		r.check(t, "", wantStderr, 0)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%q: file %s", tt.args, diff(string(b), tt.want))
		}
	}
}

// TestBuffering checks -B: when output reaches stdout. The script prints
// "a" (no newline) on the test's first getppid() call, "b\n" on the
// second, "c" on the third, and ends on the fourth. The test makes each
// call only once it has checked what the one before made visible: output
// that should be there is waited for (up to runTimeout), output that should
// not is given 300 ms to appear wrongly. So a loaded machine, which delays
// the tracer or this test, can make neither check fail.
func TestBuffering(t *testing.T) {
	kerneltest.Require(t)
	script := fmt.Sprintf(`tracepoint:syscalls:sys_enter_getppid /pid == %d/ { @n++;
  if (@n == 1) { printf("a"); }
  if (@n == 2) { printf("b\n"); }
  if (@n == 3) { printf("c"); }
  if (@n == 4) { clear(@n); exit(); } }`, os.Getpid())
	const all = "ab\nc\n\n"
	tests := []struct {
		mode string
		// visible is what stdout shows after each of the first three
		// calls.
		visible [3]string
	}{
		{"none", [3]string{"a", "ab\n", "ab\nc"}},
		{"", [3]string{"a", "ab\n", "ab\nc"}},
		{"line", [3]string{"", "ab\n", "ab\n"}},
		{"full", [3]string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			args := []string{"-e", script}
			if tt.mode != "" {
				args = append([]string{"-B", tt.mode}, args...)
			}
			r := startGotrace(t, args...)
			for i, want := range tt.visible {
				syscall.Getppid()
				before := ""
				if i > 0 {
					before = tt.visible[i-1]
				}
				deadline := time.Now().Add(runTimeout)
				if want == before {
					deadline = time.Now().Add(300 * time.Millisecond)
				}
				got := r.stdout.String()
				for got != want && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
					got = r.stdout.String()
				}
				if want == before {
					time.Sleep(time.Until(deadline))
					got = r.stdout.String()
				}
				if got != want {
					t.Fatalf("after call %d, stdout is %q, want %q", i+1, got, want)
				}
			}
			syscall.Getppid()
			select {
			case <-r.done:
			case <-time.After(runTimeout):
				t.Fatalf("gotrace did not exit after the fourth call; stdout %q", r.stdout.String())
			}
			if got := r.stdout.String(); got != all || r.err != nil {
				t.Errorf("gotrace ended with %v and stdout %q, want %q", r.err, got, all)
			}
		})
	}
	runCases(t, []cliCase{{
		name:   "bad mode",
		args:   []string{"-B", "auto", "-e", hello},
		stderr: "gotrace: invalid buffering mode \"auto\" (valid: none, line, full)\n\n" + readTestdata(t, "usage.txt"),
		status: 2,
	}})
}
