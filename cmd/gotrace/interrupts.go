package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interrupts turns SIGINT and SIGTERM into the end of a run: the context
// is cancelled, and the run detaches, runs END and prints the maps, as
// with signal.NotifyContext. It installs its handlers in the background,
// as soon as gotrace knows it will run a script, rather than where the run
// starts: installing a handler makes the Go runtime start a thread and
// wait for it to change its signal mask, once per signal, which held up
// start-up by 0.4 ms on an idle machine, more with another process keeping
// the CPUs busy.
//
// Until start, while the script is read and compiled, a signal does what
// it does without handlers: it ends gotrace there and then (or is ignored,
// if gotrace was started with it ignored). After start it ends the run;
// further signals are ignored until stop, so that a second Ctrl-C does not
// cut END short.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	sigs   chan os.Signal
	// started is closed by start, done by stop; exited when watch returns.
	started, done, exited chan struct{}
}

// caught are the signals that end a run.
func caught() []os.Signal { return []os.Signal{syscall.SIGINT, syscall.SIGTERM} }

// catchInterrupts starts watching for the signals; call start before the
// run and stop after it.
func catchInterrupts() *interrupts {
	ctx, cancel := context.WithCancel(context.Background())
	in := &interrupts{
		ctx: ctx, cancel: cancel,
		sigs:    make(chan os.Signal, 1),
		started: make(chan struct{}), done: make(chan struct{}), exited: make(chan struct{}),
	}
	go in.watch()
	return in
}

func (in *interrupts) watch() {
	defer close(in.exited)
	ignored := map[os.Signal]bool{}
	for _, sig := range caught() {
		ignored[sig] = signal.Ignored(sig)
	}
	signal.Notify(in.sigs, caught()...)
	for {
		select {
		case <-in.started:
			select {
			case <-in.sigs:
				in.cancel()
			case <-in.done:
			}
			return
		case sig := <-in.sigs:
			select {
			case <-in.started:
				in.cancel()
				return
			default:
			}
			if ignored[sig] {
				continue
			}
			// With no handler left, the Go runtime ends the process as
			// the signal does.
			signal.Reset(sig)
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
			<-in.done
			return
		case <-in.done:
			return
		}
	}
}

// start makes the signals end the run (cancel ctx) instead of gotrace.
func (in *interrupts) start() { close(in.started) }

// stop removes the handlers: the signals have their usual effect again.
func (in *interrupts) stop() {
	close(in.done)
	<-in.exited
	signal.Stop(in.sigs)
	in.cancel()
}
