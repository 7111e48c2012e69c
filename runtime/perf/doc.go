// Package perf opens perf events and attaches BPF programs to them. It is
// what powers bpftrace's interval, profile, software, hardware and
// watchpoint probes (and can also carry tracepoint programs).
//
// Why a package of its own: cilium/ebpf's link package can attach to
// tracepoints and kprobes, but has no public API for a BPF program driven by
// a plain perf event (a timer or a software counter). Those need
// perf_event_open(2) once per CPU, a BPF link per event (falling back to the
// PERF_EVENT_IOC_SET_BPF ioctl on kernels before 5.15), and the bookkeeping
// to undo all of it. The probe-specific choices are bpftrace's, reproduced
// here so gotrace behaves the same:
//
//   - interval:s|ms|us:N is ONE cpu-clock event on the first online CPU
//     (pid -1) with a sample period of N in nanoseconds, so the probe fires
//     once per period machine-wide. interval:hz:N uses frequency mode
//     instead of a period.
//   - profile:hz:N is a cpu-clock event on EVERY online CPU in frequency
//     mode; profile:s|ms|us:N uses a period in nanoseconds instead.
//   - software:EVENT[:COUNT] is the named PERF_TYPE_SOFTWARE event on every
//     online CPU, sampling every COUNT occurrences; without COUNT the
//     per-event default of bpftrace is used (see SoftwareEvents).
//   - hardware:EVENT[:COUNT] is the same with a PERF_TYPE_HARDWARE event
//     (see HardwareEvents), counted by the CPU's performance counters;
//     where there are none (most virtual machines) perf_event_open fails
//     with ENOENT, which TryOpen finds out before anything is attached.
//   - watchpoint:ADDRESS:LENGTH:MODE is a PERF_TYPE_BREAKPOINT event with
//     a sample period of 1: on every online CPU for a kernel address, or,
//     for a process (-p, -c), one per thread of the process, on any CPU
//     (see BreakpointSpec).
//
// Events are opened with pid -1 (every task on that CPU), or for one
// process, and PERF_FLAG_FD_CLOEXEC, disabled, and enabled only once the
// program is attached.
//
// Kernel behaviour worth knowing: a cpu-clock event is an hrtimer, and the
// kernel never arms it with a period below 10µs, so interval:us:1 fires at
// most every 10µs. Frequency mode is limited by
// /proc/sys/kernel/perf_event_max_sample_rate (the kernel lowers it by itself
// when sampling takes too long). And on some virtual machines (seen on a
// Firecracker/PVM guest running 6.18) the cpu-clock timer keeps expiring on
// an idle CPU but the sample, and so the program, is skipped until the CPU
// runs something: there, interval and profile probes only fire on busy CPUs.
package perf
