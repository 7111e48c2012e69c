package runtime_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// Builtins whose values depend on the machine or the moment are checked
// against what the test itself knows.
func TestBuiltinsInBegin(t *testing.T) {
	kerneltest.Require(t)
	out, _, _ := runScript(t, "builtins.gt", `BEGIN {
		printf("%d %d %d %d\n", pid, uid, gid, cpu < 4096);
		printf("%d %d\n", elapsed < 1000000000, nsecs > 0);
		printf("%s\n", comm);
		exit();
	}`, nil, "", 5*time.Second)
	lines := strings.Split(out, "\n")
	want := fmt.Sprintf("%d %d %d 1", os.Getpid(), os.Getuid(), os.Getgid())
	if lines[0] != want {
		t.Errorf("pid/uid/gid line = %q, want %q", lines[0], want)
	}
	if lines[1] != "1 1" {
		t.Errorf("elapsed/nsecs line = %q, want %q", lines[1], "1 1")
	}
	// BEGIN runs in the tracer's own thread, like bpftrace's.
	exe, _ := os.Executable()
	name := exe[strings.LastIndexByte(exe, '/')+1:]
	if len(name) > 15 {
		name = name[:15]
	}
	if lines[2] != name {
		t.Errorf("comm = %q, want %q", lines[2], name)
	}
}

// The workload's pid and tid are seen by tracepoints: its traced syscalls
// come from one locked thread of one process.
func TestPidTidOfWorkload(t *testing.T) {
	kerneltest.Require(t)
	out, _, _ := runScript(t, "pidtid.gt", `
		tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @p[pid, tid] = count(); }`,
		nil, "getppid 4", 10*time.Second)
	// One entry: the workload's pid and thread id, counted 4 times.
	var pid, tid, n int
	if _, err := fmt.Sscanf(strings.TrimSpace(out), "@p[%d, %d]: %d", &pid, &tid, &n); err != nil {
		t.Fatalf("unexpected output %q: %v", out, err)
	}
	if n != 4 || pid <= 1 || tid < pid || pid == os.Getpid() {
		t.Errorf("got pid %d tid %d count %d; want the workload's ids and 4", pid, tid, n)
	}
}

// profile and software probes sample while the workload runs; their counts
// are statistical, so they are checked against wide bounds.
func TestPerfEventProbes(t *testing.T) {
	kerneltest.Require(t)
	cases := []struct {
		name, script string
		workload     kerneltest.Workload
		lo, hi       int
	}{
		// 99 Hz for 400 ms of busy CPU is about 40 samples.
		{"profile", `profile:hz:99 /comm == "gtwork"/ { @n = count(); }`, "spin 400", 15, 80},
		{"profile-ms", `p:ms:10 /comm == "gtwork"/ { @n = count(); }`, "spin 400", 15, 80},
		// The spinning thread is preempted at least by the timer ticks.
		{"software", `software:cpu-clock:1000000 /comm == "gtwork"/ { @n = count(); }`, "spin 400", 15, 800},
		{"software-alias", `s:page-faults:1 /comm == "gtwork"/ { @n = count(); }`, "exec 3 /bin/true", 3, 100000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, _ := runScript(t, c.name+".gt", c.script, nil, c.workload, 10*time.Second)
			s := strings.TrimSpace(out)
			n, err := strconv.Atoi(strings.TrimPrefix(s, "@n: "))
			if err != nil || n < c.lo || n > c.hi {
				t.Errorf("%s: output %q, want @n between %d and %d", c.script, out, c.lo, c.hi)
			}
		})
	}
}

// signal() needs --unsafe, and then really signals the traced process.
func TestSignalKillsTheWorkload(t *testing.T) {
	kerneltest.Require(t)
	script := kerneltest.Script(`tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { signal("KILL"); }`)
	if _, err := runtime.Compile("kill.gt", script, runtime.CompileOptions{}); err == nil ||
		!strings.Contains(err.Error(), "--unsafe") {
		t.Fatalf("signal() without --unsafe: err = %v, want a message naming --unsafe", err)
	}
	s, err := runtime.Compile("kill.gt", script, runtime.CompileOptions{Unsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var werr error
	_, err = s.Run(ctx, runtime.RunOptions{Stdout: io.Discard, Stderr: io.Discard, OnAttached: func() {
		werr = kerneltest.Workload("getppid 1; sleep 2000").Run()
		cancel()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if werr == nil || !strings.Contains(werr.Error(), "signal: killed") {
		t.Errorf("workload ended with %v, want it killed by the probe", werr)
	}
}

// Values that print as text made in user space: symbols, errors, users
// and times.
func TestSpecialValues(t *testing.T) {
	kerneltest.Require(t)
	out, _, _ := runScript(t, "special.gt", `BEGIN {
		printf("%s|%s|%s|%s\n", ksym(kaddr("do_sys_openat2")), strerror(13), username, strftime("%Y", nsecs));
		time("%Y-%m-%d\n");
		@[username, strerror(2)] = count();
		exit();
	}`, nil, "", 5*time.Second)
	now := time.Now()
	want := fmt.Sprintf("do_sys_openat2|Permission denied|%s|%d\n%s\n\n\n@[%s, No such file or directory]: 1\n",
		currentUser(), now.Year(), now.Format("2006-01-02"), currentUser())
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// currentUser is the name of the test's uid as /etc/passwd has it.
func currentUser() string {
	uid := strconv.Itoa(os.Getuid())
	b, _ := os.ReadFile("/etc/passwd")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 && f[2] == uid {
			return f[0]
		}
	}
	return uid
}

// A map that fills up loses updates, and the run says how many, instead of
// losing them silently.
func TestFullMapWarns(t *testing.T) {
	kerneltest.Require(t)
	s, err := runtime.Compile("full.gt", `BEGIN { for ($i : 0..20) { @c[$i] = count(); @v[$i] = $i; } @ok[1] = 1; exit(); }`,
		runtime.CompileOptions{Codegen: codegen.Options{MaxMapKeys: 8}})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if _, err := s.Run(context.Background(), runtime.RunOptions{Stdout: &stdout, Stderr: &stderr, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	want := "WARNING: map @c is full (8 keys): 12 updates were lost\nWARNING: map @v is full (8 keys): 12 updates were lost\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	if n := strings.Count(stdout.String(), "@c["); n != 8 {
		t.Errorf("%d entries of @c printed, want 8:\n%s", n, stdout.String())
	}
}

// TestConfigSettings checks settings whose effect does not show in a
// script's output, and that outside settings (bpftrace's environment
// variables) win over the config block.
func TestConfigSettings(t *testing.T) {
	text, err := os.ReadFile("../testdata/kernel/config_limits.gt")
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.Compile("config_limits.gt", string(text), runtime.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Code.Specs[codegen.EventsMap].MaxEntries, uint32(8*os.Getpagesize()); got != want {
		t.Errorf("ring buffer of %d bytes, want %d (perf_rb_pages = 5, rounded up to 8 pages)", got, want)
	}
	for _, p := range s.Code.Programs {
		if p.Spec.License != "Dual BSD/GPL" {
			t.Errorf("program %s has license %q", p.Spec.Name, p.Spec.License)
		}
	}

	tests := []struct {
		name, script string
		config       map[string]string
		wantErr      string
	}{
		{"env wins", `config = { max_probes = 5 } BEGIN {} END {}`, map[string]string{"BPFTRACE_MAX_PROBES": "1"},
			"the script attaches 2 probes, more than max_probes (1)"},
		{"config applies", `config = { max_probes = 1 } BEGIN {} END {}`, nil,
			"the script attaches 2 probes, more than max_probes (1)"},
		{"within limits", `config = { max_probes = 2 } BEGIN {} END {}`, nil, ""},
		{"bad env value", `BEGIN {}`, map[string]string{"BPFTRACE_MAX_MAP_KEYS": "many"},
			`BPFTRACE_MAX_MAP_KEYS: max_map_keys must be an integer, not "many"`},
		{"other variables are ignored", `BEGIN {}`, map[string]string{"BPFTRACE_FROM_THE_FUTURE": "1"}, ""},
		{"too many programs", `config = { max_bpf_progs = 1 } BEGIN {} END {}`, nil,
			"the script needs 2 BPF programs, more than max_bpf_progs (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runtime.Compile("-e", tt.script, runtime.CompileOptions{Config: tt.config})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
