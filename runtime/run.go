package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/gotrace/gotrace/codegen"
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

	// session, if set, fills the script's maps before BEGIN and keeps
	// them after END (see Session.Run).
	session *Session
}

// Run executes the script until exit() is called or ctx is cancelled
// (cmd/gotrace cancels it on SIGINT and SIGTERM), then detaches every
// probe, runs END, and prints the maps. It returns the exit status the
// script chose (exit(N)), 0 by default.
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
	out := bufio.NewWriterSize(opts.Stdout, 64<<10)
	defer out.Flush()

	l, err := s.load(monotonicNow())
	if err != nil && s.hasPlainLoops() {
		// The verifier may have given up on a plain loop: try once more
		// with loops as callbacks, and report the first error if that
		// fails too.
		if again, cerr := s.withLoopCallbacks(); cerr == nil {
			if l2, err2 := again.load(monotonicNow()); err2 == nil {
				*s = *again
				l, err = l2, nil
			}
		}
	}
	if err != nil {
		return 1, err
	}
	defer l.close()
	opts.session.restore(s, l, opts.Stderr)

	r := &run{script: s, loaded: l, out: out, stderr: opts.Stderr}
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
	r.out = bufio.NewWriter(&beginOut)
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
		n := s.NumProbes()
		fmt.Fprintf(opts.Stderr, "Attached %d probe%s\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	out.Write(beginOut.Bytes())
	out.Flush()
	if opts.OnAttached != nil {
		opts.OnAttached()
	}

	if !r.exited {
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
	return r.status, nil
}

// run is the state of one execution of a script.
type run struct {
	script *Script
	loaded *loaded
	reader *ringbuf.Reader
	out    *bufio.Writer
	stderr io.Writer
	links  []io.Closer

	exited bool
	status int
	// inEnd is set while END probes run: their output is printed even
	// after exit().
	inEnd bool
	// zeroed remembers keyless aggregations reset by zero(), which print
	// their zero value where a never-written one prints nothing.
	zeroed map[*codegen.Map]bool
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

// attachAll attaches every program that is not BEGIN or END. Attaching
// hundreds of tracepoints takes seconds, so a Ctrl-C stops it early; the run
// then ends as usual.
func (r *run) attachAll(ctx context.Context) error {
	for i, p := range r.script.Code.Programs {
		if ctx.Err() != nil {
			return nil
		}
		prov := p.Target.Provider
		if prov.RunOnce {
			continue
		}
		c, err := prov.Attach(p.Target, r.loaded.progs[i])
		if err != nil {
			return fmt.Errorf("attaching %s: %w", p.Target.Name, err)
		}
		r.links = append(r.links, c)
	}
	return nil
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
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if err := r.handle(rec.RawSample); err != nil {
			return err
		}
	}
}

// loop handles records as they arrive until exit() or ctx is done. Output
// is flushed whenever the ring buffer runs empty, so it appears as it
// happens without a write per record under load.
func (r *run) loop(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.reader.Flush() })
	defer stop()
	var rec ringbuf.Record
	for !r.exited {
		err := r.reader.ReadInto(&rec)
		if errors.Is(err, ringbuf.ErrFlushed) {
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if err := r.handle(rec.RawSample); err != nil {
			return err
		}
		if rec.Remaining == 0 {
			if err := r.out.Flush(); err != nil {
				return err
			}
		}
	}
	return r.out.Flush()
}

// reportFullMaps warns about maps that ran out of room, with how many
// updates were lost, so that a too-small map is never a silent loss.
func (r *run) reportFullMaps() {
	full := r.loaded.coll.Maps[codegen.FullMap]
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

// reportLost tells the user how many records the ring buffer dropped.
func (r *run) reportLost() {
	var perCPU []uint64
	if err := r.loaded.coll.Maps[codegen.LostMap].Lookup(uint32(0), &perCPU); err != nil {
		return
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	if n > 0 {
		fmt.Fprintf(r.stderr, "Lost %d events\n", n)
	}
}
