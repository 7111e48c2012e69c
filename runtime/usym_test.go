package runtime_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// usymTargetSource passes addresses to write(2), whose tracepoint shows
// them as args.buf: my_marker_function's, or 0x1234 (mapped to nothing)
// with the argument "unknown". It writes when it reads a line on stdin,
// then exits at once with the argument "exit", or at end of input.
const usymTargetSource = `
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void __attribute__((noinline)) my_marker_function(void) {}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "";
	char c;
	if (read(0, &c, 1) != 1)
		return 1;
	write(-1, strcmp(mode, "unknown") == 0 ? (void *)0x1234 : (void *)&my_marker_function, 0);
	if (strcmp(mode, "exit") == 0)
		return 0;
	while (read(0, &c, 1) > 0) {}
	return 0;
}
`

// usym() names the function at an address of the traced process, whether
// the value is printed at once or as a map key after the process is gone.
// (The blank lines are what exit() prints, like bpftrace, before the maps.)
func TestUsymNamesUserFunctions(t *testing.T) {
	kerneltest.Require(t)
	cases := []struct {
		name, mode, script, want string
	}{
		{
			name:   "printf while the process runs",
			script: `tracepoint:syscalls:sys_enter_write /pid == $1/ { printf("%s\n", usym(args.buf)); exit(); }`,
			want:   "my_marker_function\n\n\n",
		},
		{
			name:   "print of a variable",
			script: `tracepoint:syscalls:sys_enter_write /pid == $1/ { $s = usym(args.buf); print($s); exit(); }`,
			want:   "my_marker_function\n\n\n",
		},
		{
			// The map is printed when the run ends, after the process
			// has exited: it was seen alive when the probes attached.
			name:   "map key printed after the process exited",
			mode:   "exit",
			script: `tracepoint:syscalls:sys_enter_write /pid == $1/ { @[usym(args.buf)] = count(); }`,
			want:   "\n\n@[my_marker_function]: 1\n",
		},
		{
			name:   "an address of no function prints in hex",
			mode:   "unknown",
			script: `tracepoint:syscalls:sys_enter_write /pid == $1/ { printf("%s\n", usym(args.buf)); exit(); }`,
			want:   "0x1234\n\n\n",
		},
	}
	bin := kerneltest.CompileC(t, t.TempDir(), "usymtarget", usymTargetSource, "-fPIE", "-pie")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.mode)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := false
			defer func() {
				stdin.Close()
				if !exited {
					cmd.Wait()
				}
			}()
			pid := cmd.Process.Pid
			s, err := runtime.Compile("usym.gt", c.script, runtime.CompileOptions{Params: []string{strconv.Itoa(pid)}})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			var werr error
			_, err = s.Run(ctx, runtime.RunOptions{Stdout: &stdout, Stderr: &stderr, Quiet: true, OnAttached: func() {
				if _, werr = io.WriteString(stdin, "go\n"); werr != nil || c.mode != "exit" {
					return
				}
				// The map's key is named after the process is gone.
				werr = cmd.Wait()
				exited = true
				if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
					t.Errorf("process %d still exists after it was waited for", pid)
				}
				cancel()
			}})
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
			}
			if werr != nil {
				t.Fatalf("target: %v", werr)
			}
			if ctx.Err() != nil && c.mode != "exit" {
				t.Fatalf("the script did not exit within the timeout; output %q", stdout.String())
			}
			if got := stdout.String(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
