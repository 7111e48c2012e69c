package runtime_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// sessionRun compiles and runs one script in sess, running the workload
// once the probes are attached and then stopping the run as Ctrl-C would
// (scripts without a workload must exit by themselves).
func sessionRun(t *testing.T, sess *runtime.Session, script string, w kerneltest.Workload) (stdout, stderr string) {
	t.Helper()
	s, err := sess.Compile("-e", kerneltest.Script(script), runtime.CompileOptions{})
	if err != nil {
		t.Fatalf("compile %q: %v", script, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	var werr error
	status, err := sess.Run(ctx, s, runtime.RunOptions{
		Stdout: &out,
		Stderr: &errOut,
		Quiet:  true,
		OnAttached: func() {
			if w != "" {
				werr = w.Run()
				cancel()
			}
		},
	})
	if err != nil || status != 0 || werr != nil {
		t.Fatalf("run %q: status %d, error %v, workload %v\nstderr: %s", script, status, err, werr, errOut.String())
	}
	return out.String(), errOut.String()
}

// sessionMaps is what Session.PrintMaps writes.
func sessionMaps(t *testing.T, sess *runtime.Session, names ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := sess.PrintMaps(&b, names...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSession runs scripts one after another in a Session: the maps of a
// trace survive it, a later script that only reads them sees them, a
// second trace adds to them (per-CPU values included), a script that
// gives a map another type replaces it, and Clear forgets them.
func TestSession(t *testing.T) {
	kerneltest.Require(t)
	sess := runtime.NewSession()
	trace := `tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @n = count(); @s = sum(3); @h = lhist(2, 0, 10, 5); @last[comm] = "x"; }`

	// Two CPUs' worth of per-CPU values (one CPU's on a machine with one).
	out, _ := sessionRun(t, sess, trace, "cpu 0; getppid 10; cpu 1; getppid 15")
	maps := kerneltest.Script("@h:\n[0, 5)                25 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@last[gtwork]: x\n@n: 25\n@s: 75\n")
	if want := "\n\n" + maps; out != want {
		t.Fatalf("first trace printed %q, want %q", out, want)
	}
	if got := sessionMaps(t, sess); got != maps {
		t.Errorf("the session's maps are %q, want %q", got, maps)
	}
	if got, want := strings.Join(sess.MapNames(), " "), "@h @last @n @s"; got != want {
		t.Errorf("MapNames = %q, want %q", got, want)
	}

	// A script that only reads the maps is compiled with their types and
	// sees their contents, already in BEGIN.
	out, _ = sessionRun(t, sess, `config = { print_maps_on_exit = false } BEGIN { print(@n); print(@s); printf("%d\n", @n + 1); exit(); }`, "")
	if want := "@n: 25\n@s: 75\n26\n"; out != want {
		t.Errorf("reading the session's maps printed %q, want %q", out, want)
	}

	// A second trace adds to the first's counts.
	out, _ = sessionRun(t, sess, trace, "cpu 1; getppid 5")
	maps = kerneltest.Script("@h:\n[0, 5)                30 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@last[gtwork]: x\n@n: 30\n@s: 90\n")
	if want := "\n\n" + maps; out != want {
		t.Errorf("second trace printed %q, want %q", out, want)
	}

	// A map of another type starts empty and replaces the session's.
	out, errOut := sessionRun(t, sess, `BEGIN { @n = 7; exit(); }`, "")
	if want := "\n\n@n: 7\n"; out != want {
		t.Errorf("redefining @n printed %q, want %q", out, want)
	}
	if want := "note: @n is int64 in this script, count() in the session"; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q does not say %q", errOut, want)
	}
	if got, want := sessionMaps(t, sess, "@n"), "@n: 7\n"; got != want {
		t.Errorf("@n is %q in the session, want %q", got, want)
	}

	// Probe names are numbers of one script: printed, not carried over.
	sessionRun(t, sess, `BEGIN { @p[probe] = 1; exit(); }`, "")
	if got, want := sessionMaps(t, sess, "@p"), "@p[BEGIN]: 1\n"; got != want {
		t.Errorf("@p is %q in the session, want %q", got, want)
	}
	out, errOut = sessionRun(t, sess, `BEGIN { print(@p); exit(); }`, "")
	if out != "\n\n" || !strings.Contains(errOut, "note: @p holds probe names") {
		t.Errorf("reading @p printed %q, stderr %q; want nothing and a note", out, errOut)
	}

	if err := sess.Clear("@p", "@nothing"); err == nil || !strings.Contains(err.Error(), "no map @nothing") {
		t.Errorf("Clear of a missing map: %v", err)
	}
	if err := sess.Clear(); err != nil || len(sess.MapNames()) != 0 {
		t.Fatalf("Clear: %v, maps left %q", err, sess.MapNames())
	}
	if _, err := sess.Compile("-e", `BEGIN { print(@s); }`, runtime.CompileOptions{}); err == nil || !strings.Contains(err.Error(), "@s is never assigned") {
		t.Errorf("compiling after Clear: %v, want @s is never assigned", err)
	}
}
