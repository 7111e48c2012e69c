package perf

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

func TestReleaseAtLeast(t *testing.T) {
	for _, c := range []struct {
		release      string
		major, minor int
		want         bool
	}{
		{"6.18.44-fc-v657", 5, 15, true},
		{"5.15.0-91-generic", 5, 15, true},
		{"5.14.0-427.el9.x86_64", 5, 15, false},
		{"5.11.0", 5, 11, true},
		{"10.0", 5, 11, true},
		{"5.10.209-198.858.amzn2", 5, 11, false},
		{"4.18.0-553.el8_10.x86_64", 5, 11, false},
		{"5.4", 5, 11, false},
		{"5", 5, 0, false},
		{"", 5, 11, false},
		{"linux", 5, 11, false},
	} {
		if got := ReleaseAtLeast(c.release, c.major, c.minor); got != c.want {
			t.Errorf("ReleaseAtLeast(%q, %d, %d) = %v, want %v", c.release, c.major, c.minor, got, c.want)
		}
	}
}

// cookieProgram loads a tracepoint program that stores its attach cookie
// in the map it returns, for this process only.
func cookieProgram(t *testing.T) (*ebpf.Program, *ebpf.Map) {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.TracePoint,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.FnGetCurrentPidTgid.Call(),
			asm.RSh.Imm(asm.R0, 32),
			asm.JNE.Imm(asm.R0, int32(os.Getpid()), "exit"),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.FnGetAttachCookie.Call(),
			asm.Mov.Reg(asm.R6, asm.R0),
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "exit"),
			asm.StoreMem(asm.R0, 0, asm.R6, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog, m
}

// AttachTracepoint attaches by ID with a cookie the program reads, the
// program runs on the tracepoint until Close (though the perf event's own
// descriptor is closed), and Close leaves no descriptor open.
func TestKernelAttachTracepoint(t *testing.T) {
	kerneltest.Require(t)
	if !RunningKernelAtLeast(5, 15) {
		if _, err := AttachTracepoint(1, newCounter(t, ebpf.TracePoint, 0).prog, 0); err == nil {
			t.Error("attached without perf links")
		}
		t.Skip("no BPF links for perf events before Linux 5.15")
	}
	fs, err := tracefs.Open()
	if err != nil {
		t.Fatal(err)
	}
	id, err := fs.ID("syscalls", "sys_enter_getppid")
	if err != nil {
		kerneltest.SkipOrFail(t, "no getppid tracepoint: %v", err)
	}
	c := newCounter(t, ebpf.TracePoint, os.Getpid())
	cookieProg, cookies := cookieProgram(t)
	fds := openFDs(t)
	counting, err := AttachTracepoint(id, c.prog, 0)
	if err != nil {
		t.Fatal(err)
	}
	const cookie = 0x1234_5678_9abc
	withCookie, err := AttachTracepoint(id, cookieProg, cookie)
	if err != nil {
		t.Fatal(err)
	}
	// One descriptor each, the link: the perf event is the link's.
	if n := openFDs(t); n != fds+2 {
		t.Errorf("%d descriptors open with two programs attached, %d before", n, fds)
	}
	const calls = 50
	for range calls {
		unix.Getppid()
	}
	if err := counting.Close(); err != nil {
		t.Fatal(err)
	}
	if err := withCookie.Close(); err != nil {
		t.Fatal(err)
	}
	if err := withCookie.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The goroutine may have moved between CPUs: the total counts.
	if n := c.total(t); n < calls {
		t.Errorf("counted %d getppid calls, made %d", n, calls)
	}
	var got uint64
	if err := cookies.Lookup(uint32(0), &got); err != nil {
		t.Fatal(err)
	}
	if got != cookie {
		t.Errorf("the program read cookie %#x, want %#x", got, cookie)
	}
	before := c.total(t)
	unix.Getppid()
	if after := c.total(t); after != before {
		t.Errorf("counted after Close: %d -> %d", before, after)
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d descriptors open after Close, %d before attaching", n, fds)
	}
	if _, err := AttachTracepoint(1<<40, c.prog, 0); err == nil {
		t.Error("attached to a tracepoint that does not exist")
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d descriptors open after a failed attach, %d before", n, fds)
	}
}
