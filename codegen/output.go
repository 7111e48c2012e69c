// Package codegen turns a checked script into eBPF programs, written
// instruction by instruction with github.com/cilium/ebpf/asm, together with
// the maps they use and the descriptions the runtime needs to decode what
// they produce (ring buffer records and map contents).
//
// One program is generated for every probe target (a wildcard probe yields
// one per match, because each may lay out its arguments differently);
// identical programs are later loaded once. Integer values live in R6..R9
// with spilling to the stack (regs.go), memory for strings and keys comes
// from a statement-scoped stack frame (frame.go), aggregations go to per-CPU
// maps (maps.go), and output leaves through one BPF ring buffer (events.go).
package codegen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/format"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Output is a compiled script.
type Output struct {
	Programs []*Program
	// Maps are the script's maps, in order of first appearance.
	Maps []*Map
	// Events describe ring buffer records, indexed by their ID.
	Events []*Event
	// ProbeNames maps the `probe` builtin's value to the probe's name.
	ProbeNames []string
	// ProbeFuncs maps the `func` builtin's value (the same index) to the
	// kernel function of the probe; "" for probes not on a function.
	ProbeFuncs []string
	// Specs holds every map spec the programs reference, including the
	// internal ones (ring buffer, lost-event counter), by reference name.
	// The counters (LostMap, FullMap) are missing when no program can
	// increment them.
	Specs map[string]*ebpf.MapSpec
	// Stacks are the layouts of the stacks the programs take, in order
	// of first use: each has its side map, StackMapRef.
	Stacks []stdlib.StackLayout
}

// Internal map names.
const (
	EventsMap = "events" // the ring buffer
	// LostMap is a per-CPU array of counters: at LostRecords, records the
	// ring buffer had no room for; at LostExits, those of them that were
	// exit() records, so that the runtime ends the run all the same; at
	// LostStacks, stacks that found their side map full (stacks.go).
	LostMap = "lost"
	// FullMap is a per-CPU array with one counter per script map (indexed
	// by Map.Index) of updates that failed because the map was full.
	FullMap = "full"
	// ScratchMap is a one-element per-CPU array whose value holds buffers
	// of programs that would overflow the 512-byte stack.
	ScratchMap = "scratch"
	// StateMap is a one-element array whose value is 1 once a probe has
	// called exit(): every probe but BEGIN and END then returns at once,
	// so nothing runs between exit() and the moment the runtime detaches.
	StateMap = "state"
	// ProcessMap is an LRU hash of the process IDs (u32 keys) that
	// ProcessEvent records have reported, so that each process is reported
	// once (again only if it was evicted).
	ProcessMap = "processes"
)

// Indexes of LostMap.
const (
	LostRecords = 0
	LostExits   = 1
	LostStacks  = 2
)

// Program is one generated BPF program.
type Program struct {
	// Probe is the index of the script's probe block; Target the probe it
	// runs for.
	Probe  int
	Target *probes.Target
	Spec   *ebpf.ProgramSpec
	// StackSize is the stack the program uses, for -d output.
	StackSize int
}

// Map is a script map and how its contents are laid out.
type Map struct {
	Name string // "@" or "@name"
	Ref  string // the reference name in Specs and in instructions
	Spec *ebpf.MapSpec
	// Key is the key type (nil when the map has no key); for bucketed
	// aggregations (hist, lhist) the stored key is followed by a u64
	// bucket number.
	Key   *types.Type
	Value *types.Type
	// Agg is set for aggregations (per-CPU maps).
	Agg *stdlib.AggSpec
	// KeySize is the size of the stored key.
	KeySize int
	// Index is the map's slot in FullMap.
	Index int
	// Slot is a keyless aggregation's element in the per-CPU array (Ref)
	// it shares with the script's other keyless aggregations of its value
	// size.
	Slot uint32
}

// Bucketed reports whether the map's keys end with a bucket number.
func (m *Map) Bucketed() bool { return m.Agg != nil && m.Agg.Bucket != nil }

// Keyless reports whether the map is an aggregation without keys, stored
// at Slot of a per-CPU array so that the hot path never inserts.
func (m *Map) Keyless() bool { return m.Agg != nil && m.Key == nil && !m.Bucketed() }

// EventKind says what a ring buffer record asks the runtime to do.
type EventKind int

// Event kinds.
const (
	PrintfEvent EventKind = iota
	ExitEvent
	PrintMapEvent
	PrintValueEvent
	ClearEvent
	ZeroEvent
	TimeEvent
	JoinEvent
	CatEvent    // cat(): Printf renders the file name
	SystemEvent // system(): Printf renders the command
	ErrorfEvent // errorf(): Printf renders a message for stderr
	WarnfEvent  // warnf(): likewise
	// HelperErrorEvent reports that a helper call failed (generated with
	// Options.HelperErrors, -k): Args holds its int64 return value, Helper
	// and Pos say which call.
	HelperErrorEvent
	// ProcessEvent says that a process was seen for the first time by a
	// program that records user-space addresses (ustack, usym): Args
	// holds its ID, a uint64. The runtime records the process's memory
	// mappings while it still runs (see gen.NoteProcess).
	ProcessEvent
)

// Event describes one kind of ring buffer record. Every record starts with
// its event ID as a u64; Args follow at their offsets.
type Event struct {
	ID     int
	Kind   EventKind
	Printf *format.Printf // PrintfEvent
	Args   []Field        // PrintfEvent, PrintValueEvent, ExitEvent (status)
	Map    *Map           // PrintMapEvent, ClearEvent, ZeroEvent
	// Top and Div are print(@m, top, div)'s parameters (0 when absent).
	Top, Div int64
	// TimeFormat is time()'s strftime format.
	TimeFormat string
	// Separator is join()'s separator. A join record holds a u64 count
	// then JoinMax strings of JoinStrSize bytes.
	Separator string
	// Pos is where the call is in the script (ErrorfEvent, WarnfEvent,
	// HelperErrorEvent).
	Pos ast.Pos
	// Helper is the helper whose failure a HelperErrorEvent reports.
	Helper asm.BuiltinFunc
}

// Field is a value inside a record, map key or map value.
type Field struct {
	Offset int
	Type   *types.Type
}
