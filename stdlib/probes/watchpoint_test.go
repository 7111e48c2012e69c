package probes

import (
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
)

// Watchpoints as written, with or without a process (-p or -c), on
// x86-64 and arm64: the target they make, or the error they get.
func TestResolveWatchpoint(t *testing.T) {
	const (
		user   = iota // -p PID
		child         // -c CMD
		kernel        // neither
	)
	cases := []struct {
		spec    string
		env     int
		arch    string // GOARCH; "" is amd64
		name    string
		bp      perf.Breakpoint
		space   types.AddrSpace
		wantErr string
	}{
		{spec: "watchpoint:0x404018:8:w", env: child, name: "watchpoint:4210712:8:w",
			bp: perf.Breakpoint{Addr: 0x404018, Len: 8, Access: perf.BreakWrite}, space: types.User},
		{spec: "w:4210712:4:rw", env: user, name: "watchpoint:4210712:4:rw",
			bp: perf.Breakpoint{Addr: 0x404018, Len: 4, Access: perf.BreakRead | perf.BreakWrite}, space: types.User},
		// The mode's letters come in any order; the name sorts them.
		{spec: "w:0x404018:2:wr", env: user, name: "watchpoint:4210712:2:rw",
			bp: perf.Breakpoint{Addr: 0x404018, Len: 2, Access: perf.BreakRead | perf.BreakWrite}, space: types.User},
		{spec: "watchpoint:0x404019:1:w", env: user, name: "watchpoint:4210713:1:w",
			bp: perf.Breakpoint{Addr: 0x404019, Len: 1, Access: perf.BreakWrite}, space: types.User},
		// An instruction breakpoint need not be aligned.
		{spec: "watchpoint:0x401123:8:x", env: child, name: "watchpoint:4198691:8:x",
			bp: perf.Breakpoint{Addr: 0x401123, Len: 8, Access: perf.BreakExec}, space: types.User},
		// Kernel addresses, with or without a process (with one, the
		// process's own accesses are watched).
		{spec: "watchpoint:0xffffffff82a0c000:8:w", env: kernel, name: "watchpoint:18446744071606157312:8:w",
			bp: perf.Breakpoint{Addr: 0xffffffff82a0c000, Len: 8, Access: perf.BreakWrite}, space: types.Kernel},
		{spec: "watchpoint:0xff11000012345678:8:rw", env: user, name: "watchpoint:18379471554581124728:8:rw",
			bp: perf.Breakpoint{Addr: 0xff11000012345678, Len: 8, Access: perf.BreakRead | perf.BreakWrite}, space: types.Kernel},
		// arm64 watches reads alone, and its instructions are 4 bytes.
		{spec: "watchpoint:0x1000:8:r", env: user, arch: "arm64", name: "watchpoint:4096:8:r",
			bp: perf.Breakpoint{Addr: 0x1000, Len: 8, Access: perf.BreakRead}, space: types.User},
		{spec: "watchpoint:0x1000:4:x", env: user, arch: "arm64", name: "watchpoint:4096:4:x",
			bp: perf.Breakpoint{Addr: 0x1000, Len: 4, Access: perf.BreakExec}, space: types.User},
		{spec: "watchpoint:0xffff800010000000:8:w", env: kernel, arch: "arm64", name: "watchpoint:18446603336489631744:8:w",
			bp: perf.Breakpoint{Addr: 0xffff800010000000, Len: 8, Access: perf.BreakWrite}, space: types.Kernel},

		{spec: "watchpoint:0x404018:8:w", env: kernel, wantErr: "0x404018 is a user-space address: name the process whose memory to watch with -p PID or -c CMD"},
		{spec: "watchpoint:0x404018:8", env: user, wantErr: "watchpoint needs an address, a length and a mode: watchpoint:ADDRESS:LENGTH:MODE"},
		{spec: "watchpoint:0x404018:8:w:x", env: user, wantErr: "watchpoint needs an address, a length and a mode"},
		{spec: "watchpoint", env: user, wantErr: "watchpoint needs an address, a length and a mode"},
		{spec: "watchpoint:counter:8:w", env: user, wantErr: `bad watchpoint address "counter": want a number, such as 0x404020`},
		{spec: "watchpoint:-8:8:w", env: user, wantErr: `bad watchpoint address "-8"`},
		{spec: "watchpoint:0:8:w", env: user, wantErr: "address 0 cannot be watched"},
		{spec: "watchpoint:0x404018:3:w", env: user, wantErr: `bad watchpoint length "3": a watchpoint watches 1, 2, 4 or 8 bytes`},
		{spec: "watchpoint:0x404018:16:w", env: user, wantErr: `bad watchpoint length "16"`},
		{spec: "watchpoint:0x404018:0:w", env: user, wantErr: `bad watchpoint length "0"`},
		{spec: "watchpoint:0x404018:eight:w", env: user, wantErr: `bad watchpoint length "eight"`},
		{spec: "watchpoint:0x404018:8:", env: user, wantErr: "no watchpoint mode: want r (read), w (write) or x (execute)"},
		{spec: "watchpoint:0x404018:8:rwz", env: user, wantErr: `bad watchpoint mode "rwz": want r (read), w (write) or x (execute)`},
		{spec: "watchpoint:0x404018:8:W", env: user, wantErr: `bad watchpoint mode "W"`},
		{spec: "watchpoint:0x404018:8:ww", env: user, wantErr: `bad watchpoint mode "ww": w is there twice`},
		{spec: "watchpoint:0x404018:8:r", env: user, wantErr: "x86-64 cannot watch reads alone (mode r): use rw"},
		{spec: "watchpoint:0x404018:8:rx", env: user, wantErr: "x86-64 cannot watch mode rx: a watchpoint watches execution (x) or data accesses, not both"},
		{spec: "watchpoint:0x404018:8:xw", env: user, wantErr: "x86-64 cannot watch mode wx"},
		{spec: "watchpoint:0x404018:8:rwx", env: user, wantErr: "x86-64 cannot watch mode rwx"},
		{spec: "watchpoint:0x404018:8:wx", env: user, arch: "arm64", wantErr: "arm64 cannot watch mode wx"},
		{spec: "watchpoint:0x401123:4:x", env: user, wantErr: "an execution watchpoint (x) has length 8 on x86-64, not 4"},
		{spec: "watchpoint:0x1000:8:x", env: user, arch: "arm64", wantErr: "an execution watchpoint (x) has length 4 on arm64, not 8"},
		{spec: "watchpoint:0x404014:8:w", env: user, wantErr: "0x404014 is not a multiple of the length 8: x86-64 watches aligned ranges only"},
		{spec: "watchpoint:0x404019:2:rw", env: user, wantErr: "0x404019 is not a multiple of the length 2"},
		{spec: "watchpoint:0x8000000000000000:8:w", env: user, wantErr: "0x8000000000000000 is neither a user-space nor a kernel address on x86-64"},
		{spec: "watchpoint:0x0010000000000000:8:w", env: user, arch: "arm64", wantErr: "0x10000000000000 is neither a user-space nor a kernel address on arm64"},
		{spec: "watchpoint:0x1000:8:w", env: user, arch: "riscv64", wantErr: "watchpoints are not supported on riscv64"},
		// bpftrace's FUNC+argN form, and asyncwatchpoint, which only has
		// that form, are refused whatever else is wrong.
		{spec: "watchpoint:increment+arg0:4:w", env: child, wantErr: "watchpoint:FUNC+argN:LENGTH:MODE (watching the address a function is passed, each time it is called) is not supported"},
		{spec: "w:increment+arg0:3:q", env: kernel, wantErr: "watchpoint:FUNC+argN:LENGTH:MODE"},
		{spec: "asyncwatchpoint:increment+arg1:8:w", env: user, wantErr: "asyncwatchpoint:FUNC+argN:LENGTH:MODE (watching the address a function is passed"},
		{spec: "aw:0x404018:8:w", env: user, wantErr: "asyncwatchpoint is bpftrace's watchpoint:FUNC+argN form without stopping the process on the function's entry, which gotrace does not support; a fixed address is watched with watchpoint:ADDRESS:LENGTH:MODE"},
		{spec: "aw", env: user, wantErr: "asyncwatchpoint is bpftrace's watchpoint:FUNC+argN form"},
	}
	reg := NewRegistry()
	for _, c := range cases {
		arch := c.arch
		if arch == "" {
			arch = "amd64"
		}
		t.Run(arch+"/"+c.spec, func(t *testing.T) {
			env := &Env{}
			switch c.env {
			case user:
				env.PID = 4242
			case child:
				env.Child = true
			}
			ap := AttachSpec{Raw: c.spec, Parts: splitAttach(c.spec)}
			p, ok := reg.Lookup(ap.Parts[0])
			if !ok {
				t.Fatalf("no provider %q", ap.Parts[0])
			}
			got, err := resolveWatchpoint(p, env, ap, arch)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := perf.BreakpointSpec(c.bp)
			if got.Name != c.name || !reflect.DeepEqual(got.Perf, &want) || got.Space != c.space || got.Provider != p {
				t.Errorf("got %s %+v %+v space %v, want %s %+v space %v", got.Name, got.Perf, got.Perf.Breakpoint, got.Space, c.name, c.bp, c.space)
			}
			if got.Perf.Type != unix.PERF_TYPE_BREAKPOINT || got.Perf.Period != 1 || !got.Perf.Threads {
				t.Errorf("spec %+v: want a breakpoint event that runs the program on every access, in each thread of a process", got.Perf)
			}
		})
	}
}

// The registry resolves both spellings on this machine's architecture, and
// watchpoints are perf-event probes that follow -p and -c.
func TestWatchpointProviders(t *testing.T) {
	reg := NewRegistry()
	for _, name := range []string{"watchpoint", "w", "asyncwatchpoint", "aw"} {
		p, ok := reg.Lookup(name)
		if !ok {
			t.Fatalf("no provider %q", name)
		}
		if !p.Process || p.Attach == nil || p.ProgType != ebpf.PerfEvent {
			t.Errorf("%s: Process %v, program type %v: want perf-event probes that watch the -p or -c process", name, p.Process, p.ProgType)
		}
	}
	env := &Env{PID: 1}
	if _, ok := watchArches(goruntime.GOARCH); !ok {
		return
	}
	ts, err := reg.Resolve(env, "w:0x1000:4:w")
	if err != nil || len(ts) != 1 || ts[0].Name != "watchpoint:4096:4:w" || ts[0].Spec != "w:0x1000:4:w" {
		t.Fatalf("Resolve = %v, %v", ts, err)
	}
}
