// Package tracefs finds (and if need be mounts) the kernel's tracing
// filesystem and reads what gotrace needs from it: the list of tracepoints,
// their numeric IDs and their record layouts ("format" files).
//
// Why a package of its own: every tracepoint probe needs three things the
// kernel only publishes through tracefs. The compiler needs the record
// layout to type args->field and to compute field offsets; the attacher needs
// the tracepoint ID for perf_event_open(PERF_TYPE_TRACEPOINT); and probe
// expansion (tracepoint:syscalls:sys_enter_*) and listing (-l) need the list
// of events. None of this needs LLVM or BTF, only text files.
//
// On a freshly booted machine tracefs is often not mounted at all. bpftrace
// then fails with a confusing "tracepoint not found"; Open instead mounts it
// at /sys/kernel/tracing (as systemd would), or falls back to the legacy
// location /sys/kernel/debug/tracing that debugfs exposes, and when neither
// works says which command would fix it.
//
// The package holds no mutable package-level state: an *FS remembers only its
// root directory, and every method reads the files afresh, so events created
// after Open (kprobe_events, modules loaded later) are seen.
package tracefs
