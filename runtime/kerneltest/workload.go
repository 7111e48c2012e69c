package kerneltest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WorkloadEnv names the environment variable through which a test binary
// is asked to act as a workload instead of running tests (see RunWorkload).
const WorkloadEnv = "GOTRACE_TEST_WORKLOAD"

// commEnv passes the workload's thread name to the child process.
const commEnv = "GOTRACE_TEST_COMM"

// Comm is the thread name this test process's workloads run under: "gtw"
// and the test process's ID, so that test binaries running at the same
// time (go test ./... runs packages in parallel) never count each other's
// events.
func Comm() string {
	if c := os.Getenv(commEnv); c != "" {
		return c
	}
	return fmt.Sprintf("gtw%d", os.Getpid())
}

// Script lets test scripts and expectations name the workload "gtwork":
// it replaces that name with Comm().
func Script(s string) string { return strings.ReplaceAll(s, "gtwork", Comm()) }

// Workload describes a process a test starts: a sequence of steps
// separated by ";":
//
//	openat N PATH...  open each PATH N times (O_RDONLY; missing files are fine)
//	read N PATH...    open each PATH, read(2) 64 bytes from its start N times
//	                  (an lseek(2) before each), close it
//	getppid N         call getppid N times
//	close N FD...     close each (unopened) FD N times
//	exec N PATH...    run each program N times (fork and exec, from this thread)
//	run PATH ARGS...  run one program once with arguments
//	sleep MS          sleep
//	nanosleep MS      one nanosleep(2) system call
//	spin MS           keep the CPU busy for MS of this thread's CPU time
//	cpu N             move to CPU N (modulo the number of CPUs)
//	connect N PORT    listen on 127.0.0.1:PORT, make N TCP connections to it
//	                  (connect(2) from this thread, each accepted), close all
type Workload string

// Run runs the workload as a child process: the current test binary
// re-executed with WorkloadEnv set. The test binary's TestMain must call
// RunWorkload first thing. Run waits for the child to finish.
func (w Workload) Run() error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// asyncpreemptoff: the Go runtime's preemption signal would interrupt
	// a nanosleep step (EINTR), and tests count the workload's syscalls.
	cmd.Env = append(os.Environ(), WorkloadEnv+"="+string(w), commEnv+"="+Comm(), "GODEBUG=asyncpreemptoff=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("workload %q: %v: %s", w, err, out)
	}
	return nil
}

// RunWorkload performs the workload named in the environment and exits, if
// there is one; otherwise it returns at once. Call it from TestMain.
func RunWorkload() {
	spec := os.Getenv(WorkloadEnv)
	if spec == "" {
		return
	}
	if err := perform(spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// perform runs the steps on one OS thread named Comm(): the name is
// per thread, so every traced syscall must come from this thread.
func perform(spec string) error {
	runtime.LockOSThread()
	name, err := unix.BytePtrFromString(Comm())
	if err != nil {
		return err
	}
	err = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	runtime.KeepAlive(name)
	if err != nil {
		return fmt.Errorf("prctl: %w", err)
	}
	for _, step := range strings.Split(spec, ";") {
		f := strings.Fields(step)
		if len(f) == 0 {
			continue
		}
		n := 1
		if len(f) > 1 && f[0] != "run" {
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
			n = v
		}
		switch f[0] {
		case "openat":
			for _, p := range f[2:] {
				for i := 0; i < n; i++ {
					fd, err := unix.Openat(unix.AT_FDCWD, p, unix.O_RDONLY, 0)
					if err == nil {
						unix.Close(fd)
					}
				}
			}
		case "read":
			for _, p := range f[2:] {
				fd, err := unix.Open(p, unix.O_RDONLY, 0)
				if err != nil {
					return fmt.Errorf("workload step %q: %v", step, err)
				}
				buf := make([]byte, 64)
				for i := 0; i < n; i++ {
					_, err := unix.Seek(fd, 0, 0)
					if err == nil {
						_, err = unix.Read(fd, buf)
					}
					if err != nil {
						unix.Close(fd)
						return fmt.Errorf("workload step %q: %v", step, err)
					}
				}
				unix.Close(fd)
			}
		case "getppid":
			for i := 0; i < n; i++ {
				unix.Getppid()
			}
		case "sleep":
			time.Sleep(time.Duration(n) * time.Millisecond)
		case "close":
			// close(FD) of a descriptor that is not open: a syscall with a
			// known argument and no effect.
			for _, a := range f[2:] {
				fd, err := strconv.Atoi(a)
				if err != nil {
					return fmt.Errorf("workload step %q: %v", step, err)
				}
				for i := 0; i < n; i++ {
					unix.Close(fd)
				}
			}
		case "exec":
			for _, p := range f[2:] {
				for i := 0; i < n; i++ {
					if err := exec.Command(p).Run(); err != nil {
						return fmt.Errorf("workload step %q: %v", step, err)
					}
				}
			}
		case "run":
			// run PATH ARGS...: one fork and exec with arguments (no N).
			if err := exec.Command(f[1], f[2:]...).Run(); err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
		case "nanosleep":
			// nanosleep N: one nanosleep(2) of N milliseconds.
			ts := unix.Timespec{Sec: int64(n / 1000), Nsec: int64(n%1000) * 1e6}
			if err := unix.Nanosleep(&ts, nil); err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
		case "cpu":
			// cpu N: move this thread to CPU N (modulo the CPU count), so
			// that per-CPU values of later steps land on that CPU.
			var set unix.CPUSet
			set.Set(n % runtime.NumCPU())
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
		case "spin":
			// CPU time, not wall time: on a loaded machine the thread still
			// runs N ms, so sampling tests see the same number of samples.
			if err := spinCPU(time.Duration(n) * time.Millisecond); err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
		case "connect":
			if len(f) != 3 {
				return fmt.Errorf("workload step %q: want connect N PORT", step)
			}
			port, err := strconv.Atoi(f[2])
			if err != nil {
				return fmt.Errorf("workload step %q: %v", step, err)
			}
			if err := connectLoopback(n, port); err != nil {
				return fmt.Errorf("workload step %q: %w", step, err)
			}
		default:
			return fmt.Errorf("unknown workload step %q", step)
		}
	}
	return nil
}

// spinCPU keeps the CPU busy until this thread has used d of CPU time.
func spinCPU(d time.Duration) error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return err
	}
	end := time.Duration(ts.Nano()) + d
	for time.Duration(ts.Nano()) < end {
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			return err
		}
	}
	return nil
}

// connectLoopback listens on 127.0.0.1:port and connects to it n times,
// with blocking system calls on this thread (not the Go network poller, so
// that the connect(2) calls come from the workload's thread), accepting
// each connection before the next.
func connectLoopback(n, port int) error {
	addr := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ln)
	if err := unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.Bind(ln, addr); err != nil {
		return fmt.Errorf("bind 127.0.0.1:%d: %w", port, err)
	}
	if err := unix.Listen(ln, n); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = unix.Connect(c, addr)
		if err == nil {
			var a int
			if a, _, err = unix.Accept4(ln, unix.SOCK_CLOEXEC); err == nil {
				unix.Close(a)
			}
		}
		unix.Close(c)
		if err != nil {
			return fmt.Errorf("connect to 127.0.0.1:%d: %w", port, err)
		}
	}
	return nil
}
