package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// nobody is the user and group the unprivileged runs use.
const nobody = 65534

// TestUnprivileged runs the binary as an unprivileged user: everything
// that loads programs (or reads tracefs) says, before doing anything, that
// it needs root or CAP_BPF and CAP_PERFMON, and exits 1; what only reads
// the script still works.
func TestUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run gotrace as another user")
	}
	// The binary's directory is private to root; let nobody in.
	if err := os.Chmod(filepath.Dir(gotraceBin), 0o755); err != nil {
		t.Fatal(err)
	}
	const denied = "gotrace: error: gotrace needs privileges to trace: run as root, or grant CAP_BPF and CAP_PERFMON (running as uid 65534 without CAP_BPF and CAP_PERFMON)\n"
	script := `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }`
	tests := []struct {
		args           []string
		stdout, stderr string
		status         int
	}{
		{[]string{"-e", script}, "", denied, 1},
		{[]string{"-e", `BEGIN { printf("hi\n"); exit(); }`}, "", denied, 1},
		{[]string{"--dry-run", "-e", script}, "", denied, 1},
		{[]string{"--verify", "-e", script}, "", denied, 1},
		{[]string{"-d", "verifier", "-e", script}, "", denied, 1},
		{[]string{"--info"}, "", denied, 1},
		{[]string{"-l", "tracepoint:sched:*"}, "", denied, 1},
		// Script errors come after: the privileges are checked first.
		{[]string{"-e", `BEGIN { nosuch(); }`}, "", denied, 1},
		{[]string{"-d", "ast", "-e", `BEGIN { exit(); }`}, "(program (probe 1:1 (attach 1:1 \"BEGIN\") (block 1:7..1:17 (expr (call 1:9..1:14 exit)))))\n", "", 0},
		{[]string{"--version"}, "gotrace v0.1.0\n", "", 0},
	}
	for _, tt := range tests {
		cmd := exec.Command(gotraceBin, tt.args...)
		cmd.Env = childEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		cmd.Dir = "/"
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("%q: %v", tt.args, err)
		}
		r := result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
		if r.stdout != tt.stdout || r.stderr != tt.stderr || r.status != tt.status {
			t.Errorf("%q as nobody: got stdout %q, stderr %q, status %d; want %q, %q, %d",
				tt.args, r.stdout, r.stderr, r.status, tt.stdout, tt.stderr, tt.status)
		}
	}
}
