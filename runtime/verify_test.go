package runtime

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// fakeTracefs makes a tracefs directory with one tracepoint,
// gotrace_test:unattachable, that the kernel does not have.
func fakeTracefs(t *testing.T) *tracefs.FS {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "events", "gotrace_test", "unattachable")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	format := `name: unattachable
ID: 999999
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long id;	offset:8;	size:8;	signed:1;

print fmt: "%ld", REC->id
`
	for name, text := range map[string]string{
		filepath.Join(dir, "format"):            format,
		filepath.Join(dir, "id"):                "999999\n",
		filepath.Join(root, "available_events"): "gotrace_test:unattachable\n",
	} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := tracefs.OpenAt(root)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestVerifyUnattachableProbe checks that Verify loads the program of a
// probe that cannot be attached on this machine, where Run and a dry run
// fail at attaching.
func TestVerifyUnattachableProbe(t *testing.T) {
	kerneltest.Require(t)
	s, err := Compile("-e", `tracepoint:gotrace_test:unattachable { @[args.id] = count(); printf("%d\n", args.id); }`,
		CompileOptions{Env: &probes.Env{Tracepoints: fakeTracefs(t)}})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := s.Verify(VerifyOptions{Stats: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) == 0 {
		t.Fatal("no program verified")
	}
	for _, st := range stats {
		if st.Err != nil {
			t.Errorf("program %s: %v", st.Name, st.Err)
		}
		if st.Probes[0] != "tracepoint:gotrace_test:unattachable" || st.Instructions == 0 || !logHas(st.Log, "processed ") {
			t.Errorf("unexpected stats %+v", st)
		}
	}
	var stderr bytes.Buffer
	_, err = s.Run(context.Background(), RunOptions{DryRun: true, Stdout: &stderr, Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "attaching tracepoint:gotrace_test:unattachable") {
		t.Errorf("dry run: error %v, want an attach error", err)
	}
}

// TestVerifyReportsEachFailure checks that Verify reports the program the
// verifier rejects, with its probe and log, and still loads the others.
func TestVerifyReportsEachFailure(t *testing.T) {
	kerneltest.Require(t)
	s, err := Compile("bad.gt", "BEGIN {\n  printf(\"%d\\n\", 1 + 2);\n}\nEND { printf(\"end\\n\"); }\n", CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sabotage(s.Code.Programs[0].Spec)
	stats, err := s.Verify(VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 {
		t.Fatalf("got %d programs, want 2: %+v", len(stats), stats)
	}
	if st := stats[0]; st.Err == nil || !strings.Contains(st.Err.Error(), "rejected the program for BEGIN") || !logHas(st.Log, "0: ") {
		t.Errorf("BEGIN: err %v, log %q", st.Err, st.Log)
	}
	if st := stats[1]; st.Err != nil || st.Probes[0] != "END" || len(st.Log) != 0 {
		t.Errorf("END: err %v, probes %v, log %q", st.Err, st.Probes, st.Log)
	}
}
