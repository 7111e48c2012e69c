package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// RunOptions configure a run.
type RunOptions struct {
	// Stdout receives the script's output; Stderr gotrace's own messages.
	Stdout, Stderr io.Writer
	// Quiet suppresses "Attached N probes".
	Quiet bool
	// OnAttached, if set, is called once every probe is attached and BEGIN
	// has run (tests start their workloads here).
	OnAttached func()
	// Format is TextFormat (the default) or JSONFormat.
	Format Format
	// Buffering says when output reaches Stdout (BufferAuto by default).
	Buffering Buffering
	// DryRun loads every program and attaches every probe, then detaches
	// them and returns 0: BEGIN and END do not run and nothing is printed
	// (bpftrace's --dry-run).
	DryRun bool
	// Verbose writes to Stderr, for every program loaded, its size and
	// the verifier's statistics.
	Verbose bool
	// Command, if set, is started for the run (-c), before the programs
	// are loaded (its PID is the cpid builtin), but waits until the probes
	// are attached to exec its program, so that they see all it does; the
	// run ends, as if exit() had been called, when it exits, and a Command
	// still running when the run ends is sent SIGTERM. Run starts it
	// through /bin/sh, which waits and then execs Command.Path (see
	// child.go): Path, Args and ExtraFiles are changed.
	Command *exec.Cmd

	// session, if set, fills the script's maps before BEGIN and keeps
	// them after END (see Session.Run).
	session *Session
}

// Run executes the script until exit() is called or ctx is cancelled
// (cmd/gotrace cancels it on SIGINT and SIGTERM), then detaches every
// probe, runs END, and prints the maps. It returns the exit status the
// script chose (exit(N)), 0 by default.
//
// Before anything is loaded, Run checks the process's privileges
// (CheckPrivileges) and, for a script compiled with a PID (-p), that the
// process exists.
func (s *Script) Run(ctx context.Context, opts RunOptions) (status int, err error) {
	defer func() {
		// The deferred detaches and closes below have run by now: a bug
		// here leaves nothing attached, and it is reported, not a crash.
		if r := recover(); r != nil {
			status, err = 1, fmt.Errorf("internal runtime error (please report it): %v", r)
		}
	}()
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if err := CheckPrivileges(); err != nil {
		return 1, err
	}
	if s.opts.ChildCommand && opts.Command == nil {
		return 1, errors.New("the script was compiled to run with a command (cpid), but RunOptions.Command is not set")
	}
	// The run ends early, as Ctrl-C ends it, when the -p process or the
	// -c command exits.
	ctx, endRun := context.WithCancel(ctx)
	defer endRun()
	if pid := s.opts.PID; pid != 0 {
		w, err := watchProcess(pid, endRun)
		if err != nil {
			return 1, err
		}
		defer w.close()
	}
	var ch *child
	if opts.Command != nil {
		ch, err = startChild(opts.Command)
		if err != nil {
			return 1, fmt.Errorf("starting the command: %w", err)
		}
		defer ch.finish()
	}
	out := newOutBuffer(opts.Stdout, opts.Buffering)
	defer out.Flush()

	if err := s.preflight(); err != nil {
		return 1, err
	}
	lc := loadConfig{startNS: monotonicNow(), childPID: ch.pid()}
	if opts.Verbose {
		lc.logLevel = ebpf.LogLevelStats
	}
	l, err := s.load(lc)
	if err != nil && s.hasPlainLoops() {
		// The verifier may have given up on a plain loop: try once more
		// with loops as callbacks, and report the first error if that
		// fails too.
		if again, cerr := s.withLoopCallbacks(); cerr == nil {
			lc.startNS = monotonicNow()
			if l2, err2 := again.load(lc); err2 == nil {
				*s = *again
				l, err = l2, nil
			}
		}
	}
	if err != nil {
		return 1, err
	}
	defer l.close()
	if opts.Verbose {
		WriteProgramStats(opts.Stderr, s.loadedStats(l))
	}
	opts.session.restore(s, l, opts.Stderr)

	r := &run{script: s, loaded: l, session: opts.session, out: out, stderr: opts.Stderr, json: opts.Format == JSONFormat, childPID: ch.pid()}
	s.lib.SetStackReader(r.readStack)
	if opts.DryRun {
		err := r.attachAll(ctx)
		r.detachAll()
		if err != nil {
			return 1, err
		}
		return 0, nil
	}
	rd, err := ringbuf.NewReader(l.coll.Maps[codegen.EventsMap])
	if err != nil {
		return 1, fmt.Errorf("opening the event ring buffer: %w", err)
	}
	defer rd.Close()
	r.reader = rd

	// BEGIN runs before anything is attached, so its output is held back
	// and shown after the "Attached" line, as bpftrace shows it, and not at
	// all if attaching fails.
	var beginOut bytes.Buffer
	r.out = newOutBuffer(&beginOut, BufferFull)
	if err := r.runOnce(true); err != nil {
		return 1, err
	}
	if err := r.drainNow(); err != nil {
		return 1, err
	}
	r.out = out
	if !r.exited {
		if err := r.attachAll(ctx); err != nil {
			r.detachAll()
			return 1, err
		}
		s.lib.ProbesAttached()
	}
	defer r.detachAll()
	if !opts.Quiet {
		r.reportAttached(s.NumProbes())
	}
	out.Write(beginOut.Bytes())
	out.Flush()
	if opts.OnAttached != nil {
		opts.OnAttached()
	}

	if !r.exited {
		if ch != nil {
			if err := ch.resume(); err != nil {
				return 1, err
			}
			go func() {
				select {
				case <-ch.exited:
					endRun()
				case <-ctx.Done():
				}
			}()
		}
		if err := r.loop(ctx); err != nil {
			return 1, err
		}
	}
	r.detachAll()
	// Records that were already in the ring buffer when exit() was called
	// are dropped (see handle); END's are printed.
	if err := r.drainNow(); err != nil {
		return 1, err
	}
	r.inEnd = true
	if err := r.runOnce(false); err != nil {
		return 1, err
	}
	if err := r.drainNow(); err != nil {
		return 1, err
	}
	if err := opts.session.save(r); err != nil {
		return 1, err
	}
	if err := r.printAllMaps(); err != nil {
		return 1, err
	}
	r.reportLost()
	r.reportFullMaps()
	r.reportLostStacks()
	return r.status, out.Flush()
}

// run is the state of one execution of a script.
type run struct {
	script *Script
	loaded *loaded
	// session is the session the run belongs to, nil if none.
	session *Session
	reader  *ringbuf.Reader
	out     *outBuffer
	stderr  io.Writer
	links   []io.Closer
	// json selects JSON output (see json.go).
	json bool
	// childPID is the PID of the -c command, 0 without one.
	childPID int

	exited bool
	status int
	// inEnd is set while END probes run: their output is printed even
	// after exit().
	inEnd bool
	// zeroed remembers keyless aggregations reset by zero(), which print
	// their zero value where a never-written one prints nothing.
	zeroed map[*codegen.Map]bool
	// lostReported is how many lost records have been reported so far.
	lostReported uint64
}

// runOnce executes the BEGIN (begin=true) or END programs in order, in the
// kernel, with BPF_PROG_TEST_RUN.
func (r *run) runOnce(begin bool) error {
	for i, p := range r.script.Code.Programs {
		prov := p.Target.Provider
		if !prov.RunOnce || (prov.Name == "BEGIN") != begin {
			continue
		}
		if _, err := r.loaded.progs[i].Run(&ebpf.RunOptions{Context: make([]byte, 8)}); err != nil {
			return fmt.Errorf("running %s: %w", p.Target.Name, err)
		}
	}
	return nil
}

// preflight asks each provider whether the running kernel can attach its
// probes at all (each target, for providers whose answer depends on it:
// hardware events), before anything is loaded, so that a kernel without
// kprobes (or fentry, or hardware counters) fails with one line naming
// what is missing, having run nothing (BEGIN included) and left nothing
// behind. This is not a check of the script: the same script is fine on a kernel that has the
// feature, and compiling it (-d) works anywhere. Attaching still reports
// what only attaching can tell (a function that cannot be probed).
func (s *Script) preflight() error {
	asked := map[*probes.Provider]bool{}
	for _, p := range s.Code.Programs {
		prov := p.Target.Provider
		if prov.Require == nil || (asked[prov] && !prov.RequireEach) {
			continue
		}
		asked[prov] = true
		if err := prov.Require(s.env, p.Target); err != nil {
			return err
		}
	}
	return nil
}

// attachAll attaches every program that is not BEGIN or END. Attaching
// hundreds of tracepoints takes seconds, so a Ctrl-C stops it early; the run
// then ends as usual. A program loaded for a multi link is attached to all
// of its targets at once, when its first target comes up.
func (r *run) attachAll(ctx context.Context) error {
	code := r.script.Code
	done := map[string]bool{}
	for i, p := range code.Programs {
		if ctx.Err() != nil {
			return nil
		}
		prov := p.Target.Provider
		if prov.RunOnce || r.loaded.inChain[i] {
			continue
		}
		name := r.loaded.names[i]
		if r.loaded.multi[name] {
			if done[name] {
				continue
			}
			done[name] = true
			var ts []*probes.Target
			var cookies []uint64
			for j, q := range code.Programs {
				if r.loaded.names[j] == name {
					ts = append(ts, r.forPID(q.Target))
					cookies = append(cookies, r.cookie(q.Target))
				}
			}
			c, err := prov.AttachMulti(ts, r.loaded.progs[i], cookies)
			if err != nil {
				return fmt.Errorf("attaching %s (%d functions with one %s-multi link): %w", p.Target.Spec, len(ts), prov.Name, err)
			}
			r.links = append(r.links, c)
			continue
		}
		c, err := prov.Attach(r.forPID(p.Target), r.loaded.progs[i], r.cookie(p.Target))
		if err != nil {
			return fmt.Errorf("attaching %s: %w", p.Target.Name, err)
		}
		r.links = append(r.links, c)
	}
	return nil
}

// cookie is the attach cookie of a target: its index in the probe table,
// which is what `probe` and `func` read (see probes.Provider.Cookie).
func (r *run) cookie(t *probes.Target) uint64 {
	for i, n := range r.script.Code.ProbeNames {
		if n == t.Name {
			return uint64(i)
		}
	}
	return 0
}

// detachAll closes every attachment, newest first. It is idempotent.
func (r *run) detachAll() {
	for i := len(r.links) - 1; i >= 0; i-- {
		r.links[i].Close()
	}
	r.links = nil
}

// drainNow handles every record already in the ring buffer.
func (r *run) drainNow() error {
	r.reader.SetDeadline(time.Now())
	defer r.reader.SetDeadline(time.Time{})
	var rec ringbuf.Record
	for {
		err := r.reader.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return r.out.Flush()
		}
		if errors.Is(err, ringbuf.ErrFlushed) {
			// The run's end (Ctrl-C, the workload done) woke the
			// reader: what is still in the buffer is read all the same.
			continue
		}
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if err := r.handle(rec.RawSample); err != nil {
			return err
		}
	}
}

// pollInterval is how often a run looks at the lost-record counter while
// it waits for records.
const pollInterval = 200 * time.Millisecond

// loop handles records as they arrive until exit() or ctx is done. Output
// is written as the Buffering mode says (by default whenever the ring
// buffer runs empty, so it appears as it happens without a write per
// record under load). Every pollInterval, records lost since the last
// look are reported.
func (r *run) loop(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.reader.Flush() })
	defer stop()
	defer r.reader.SetDeadline(time.Time{})
	nextPoll := time.Now().Add(pollInterval)
	r.reader.SetDeadline(nextPoll)
	var rec ringbuf.Record
	for !r.exited {
		err := r.reader.ReadInto(&rec)
		switch {
		case errors.Is(err, ringbuf.ErrFlushed):
			if ctx.Err() != nil {
				return r.out.Flush()
			}
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			if err := r.out.idle(); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("reading events: %w", err)
		default:
			if err := r.handle(rec.RawSample); err != nil {
				return err
			}
			if err := r.out.recordDone(rec.Remaining > 0); err != nil {
				return err
			}
		}
		if now := time.Now(); !now.Before(nextPoll) {
			r.reportLost()
			r.checkLostExit()
			nextPoll = now.Add(pollInterval)
			r.reader.SetDeadline(nextPoll)
		}
	}
	return r.out.Flush()
}

// reportFullMaps warns about maps that ran out of room, with how many
// updates were lost, so that a too-small map is never a silent loss.
func (r *run) reportFullMaps() {
	full := r.loaded.coll.Maps[codegen.FullMap]
	if full == nil {
		return // no program updates a map that can be full
	}
	for _, m := range r.script.Code.Maps {
		var perCPU []uint64
		if err := full.Lookup(uint32(m.Index), &perCPU); err != nil {
			continue
		}
		var n uint64
		for _, v := range perCPU {
			n += v
		}
		if n > 0 {
			fmt.Fprintf(r.stderr, "WARNING: map %s is full (%d keys): %d updates were lost\n", m.Name, m.Spec.MaxEntries, n)
		}
	}
}

// reportLost tells the user how many records the ring buffer dropped
// since the last report: "Lost N events" on stderr, and in JSON also a
// lost_events record.
func (r *run) reportLost() {
	n := r.lostCount(codegen.LostRecords)
	if n <= r.lostReported {
		return
	}
	lost := n - r.lostReported
	r.lostReported = n
	r.out.Flush()
	fmt.Fprintf(r.stderr, "Lost %d events\n", lost)
	if r.json {
		r.jsonLost(lost)
	}
}

// lostCount sums a counter of the lost map over the CPUs.
func (r *run) lostCount(index uint32) uint64 {
	lost := r.loaded.coll.Maps[codegen.LostMap]
	if lost == nil {
		return 0 // no program writes records
	}
	var perCPU []uint64
	if err := lost.Lookup(index, &perCPU); err != nil {
		return 0
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n
}

// checkLostExit ends the run when an exit() record was lost to a full
// ring buffer, which would otherwise leave the run going until Ctrl-C.
// The exit status was in the record: the run ends with 0.
func (r *run) checkLostExit() {
	if r.exited || r.lostCount(codegen.LostExits) == 0 {
		return
	}
	r.exited = true
	r.out.Flush()
	fmt.Fprintln(r.stderr, "WARNING: exit() was called but the ring buffer was full: its record, and the exit status, were lost")
}
