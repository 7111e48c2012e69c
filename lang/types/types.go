// Package types describes the values a gotrace script computes with: sized
// signed and unsigned integers, fixed-capacity strings, tuples, pointers,
// probe context structs, and the aggregation values that live in maps.
//
// A Type knows its size and alignment in BPF memory, because the same
// description is used by the checker (is this operation legal?), by the code
// generator (how many bytes to copy into a map key?) and by the runtime (how
// to decode a ring buffer record or a map key).
package types

import (
	"fmt"
	"strings"
	"sync"
)

// Kind classifies a Type.
type Kind int

// The kinds of value.
const (
	Void    Kind = iota // no value: statements, printf(), exit()
	Int                 // integer of Size bytes, Signed or not
	String              // NUL-terminated string in a buffer of Size bytes
	Tuple               // fixed sequence of Elems (a record when Names is set)
	Pointer             // address of Elem in AddrSpace
	Array               // Len elements of Elem, inline
	Struct              // a struct from BTF or a tracepoint's format (Fields)
	Agg                 // an aggregation stored in a map (count(), hist(), ...)
	Probe               // the probe name (builtin `probe`), a string in user space
	// Special is an integer that prints as text made in user space: a
	// kernel symbol for ksym(), a user name for username, a time for
	// strftime(). Name says which stdlib formatter renders it, Param
	// carries its argument (strftime's format).
	Special
)

// AddrSpace says which helper reads memory behind a pointer.
type AddrSpace int

// Address spaces.
const (
	Kernel AddrSpace = iota
	User
)

// AggKind names an aggregation function.
type AggKind string

// The aggregations.
const (
	Count AggKind = "count"
	Sum   AggKind = "sum"
	Avg   AggKind = "avg"
	Min   AggKind = "min"
	Max   AggKind = "max"
	Stats AggKind = "stats"
	Hist  AggKind = "hist"
	Lhist AggKind = "lhist"
)

// Field is a member of a Struct type.
type Field struct {
	Name   string
	Type   *Type
	Offset int
	// DataLoc marks a tracepoint `__data_loc` field: a u32 holding the
	// offset (low 16 bits) and length (high 16 bits) of data stored later
	// in the same record. Type describes the data (usually a String).
	DataLoc bool
	// BitSize is non-zero for a C bitfield: the field is BitSize bits
	// wide, starting BitOffset bits above the least significant bit of the
	// little-endian Type.Size-byte integer stored at Offset. Reading it
	// loads that integer, shifts it right by BitOffset and keeps BitSize
	// bits, sign-extending from the top one when Type.Signed.
	BitOffset, BitSize int
}

// Type is a gotrace type. Types are compared with Equal, not ==.
type Type struct {
	Kind      Kind
	Size      int  // bytes: integer width, string capacity, struct size, C size of a BTF array
	Signed    bool // Int only
	Elem      *Type
	Len       int       // Array only
	AddrSpace AddrSpace // Pointer only
	Elems     []*Type   // Tuple only
	Names     []string  // Tuple only, for records
	Name      string    // Struct: "struct task_struct" or "args"; Agg: unused
	Fields    []Field   // Struct only; nil for a lazy struct, see FieldList
	Agg       AggKind   // Agg only
	Param     string    // Special only
	// Frames is the frame limit of a stack (the Specials kstack and
	// ustack), whose value is an ID naming frames stored elsewhere: stacks
	// of different limits are stored apart, so they are different types.
	Frames int
	// Agg parameters: hist's bits, lhist's min/max/step. They are part of
	// the type so that two lhist() calls on one map must agree.
	HistBits                      int
	LhistMin, LhistMax, LhistStep int64
	// lazy builds the fields of a struct made by NewLazyStruct.
	lazy *lazyFields
}

// lazyFields holds a struct's field builder and, once it has run, its result.
type lazyFields struct {
	once   sync.Once
	build  func() []Field
	fields []Field
}

// NewLazyStruct returns a struct type whose fields are computed by build the
// first time they are needed (FieldList, Field), once even under concurrent
// use. Kernel structs are built this way: through their pointers they reach
// most of the kernel's types, so only the structs a script looks into are
// converted, and a recursive type (task_struct's parent is a task_struct)
// is a finite graph of types.
func NewLazyStruct(name string, size int, build func() []Field) *Type {
	return &Type{Kind: Struct, Name: name, Size: size, lazy: &lazyFields{build: build}}
}

// FieldList returns the fields of a struct, building them first if t was
// made by NewLazyStruct. Code that may see kernel structs must use it (or
// Field) rather than reading t.Fields.
func (t *Type) FieldList() []Field {
	if t.lazy == nil {
		return t.Fields
	}
	l := t.lazy
	l.once.Do(func() {
		l.fields = l.build()
		l.build = nil
	})
	return l.fields
}

// Common types.
var (
	VoidType = &Type{Kind: Void}
	Int64    = &Type{Kind: Int, Size: 8, Signed: true}
	Uint64   = &Type{Kind: Int, Size: 8}
	Int32    = &Type{Kind: Int, Size: 4, Signed: true}
	Uint32   = &Type{Kind: Int, Size: 4}
	Uint16   = &Type{Kind: Int, Size: 2}
	Uint8    = &Type{Kind: Int, Size: 1}
	Bool     = &Type{Kind: Int, Size: 1}
)

// NewInt returns an integer type.
func NewInt(size int, signed bool) *Type { return &Type{Kind: Int, Size: size, Signed: signed} }

// NewString returns a string type with a buffer of size bytes.
func NewString(size int) *Type { return &Type{Kind: String, Size: size} }

// NewTuple returns a tuple of elems.
func NewTuple(elems ...*Type) *Type { return &Type{Kind: Tuple, Elems: elems} }

// NewPointer returns a pointer to elem.
func NewPointer(elem *Type, as AddrSpace) *Type {
	return &Type{Kind: Pointer, Size: 8, Elem: elem, AddrSpace: as}
}

// NewSpecial returns the type of a value printed by the named formatter.
func NewSpecial(name, param string) *Type {
	return &Type{Kind: Special, Size: 8, Name: name, Param: param}
}

// NewAgg returns the type of an aggregation value.
func NewAgg(k AggKind) *Type { return &Type{Kind: Agg, Agg: k} }

// IsInt reports whether t is an integer (pointers are not).
func (t *Type) IsInt() bool { return t != nil && t.Kind == Int }

// IsIntLike reports whether t can take part in integer arithmetic:
// integers and pointers.
func (t *Type) IsIntLike() bool { return t != nil && (t.Kind == Int || t.Kind == Pointer) }

// IsString reports whether t is a string.
func (t *Type) IsString() bool { return t != nil && t.Kind == String }

// Align is t's alignment in BPF memory. Everything a script builds (keys,
// records) is laid out with 8-byte aligned integers so that loads and stores
// are single instructions.
func (t *Type) Align() int {
	switch t.Kind {
	case Special:
		// Wider Specials (buf, inet, usym) are 8-byte words.
		return min(t.Size, 8)
	case Int, Pointer, Probe:
		return t.Size
	case Tuple:
		a := 1
		for _, e := range t.Elems {
			if ea := e.Align(); ea > a {
				a = ea
			}
		}
		return a
	case Array:
		return t.Elem.Align()
	}
	return 1
}

// Offsets returns the byte offset of each tuple element, C-style layout.
func (t *Type) Offsets() []int {
	offs := make([]int, len(t.Elems))
	off := 0
	for i, e := range t.Elems {
		off = alignUp(off, e.Align())
		offs[i] = off
		off += e.StorageSize()
	}
	return offs
}

// StorageSize is the number of bytes a value of t occupies in a map key,
// map value, variable or event record.
func (t *Type) StorageSize() int {
	switch t.Kind {
	case String:
		// String buffers are whole 8-byte words so that they are copied
		// and cleared with 64-bit loads and stores.
		return alignUp(t.Size, 8)
	case Int, Pointer, Struct, Probe, Special:
		return t.Size
	case Array:
		return t.Len * t.Elem.StorageSize()
	case Tuple:
		off, a := 0, 1
		for _, e := range t.Elems {
			off = alignUp(off, e.Align())
			off += e.StorageSize()
			if ea := e.Align(); ea > a {
				a = ea
			}
		}
		return alignUp(off, a)
	}
	return 0
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// Equal reports whether a and b are the same type.
func Equal(a, b *Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Int:
		return a.Size == b.Size && a.Signed == b.Signed
	case String:
		return a.Size == b.Size
	case Pointer:
		return Equal(a.Elem, b.Elem)
	case Array:
		return a.Len == b.Len && Equal(a.Elem, b.Elem)
	case Tuple:
		if len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !Equal(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
		return true
	case Struct:
		return a.Name == b.Name
	case Special:
		return a.Name == b.Name && a.Param == b.Param && a.Size == b.Size && a.Frames == b.Frames
	case Probe:
		// probe and func are both probe-table indexes, printed
		// differently.
		return a.Name == b.Name
	case Agg:
		return a.Agg == b.Agg && a.HistBits == b.HistBits &&
			a.LhistMin == b.LhistMin && a.LhistMax == b.LhistMax && a.LhistStep == b.LhistStep
	}
	return true
}

// Field looks a field up by name.
func (t *Type) Field(name string) (Field, bool) {
	for _, f := range t.FieldList() {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// String renders t the way error messages and -d show it.
func (t *Type) String() string {
	if t == nil {
		return "<nil>"
	}
	switch t.Kind {
	case Void:
		return "void"
	case Int:
		if t.Signed {
			return fmt.Sprintf("int%d", t.Size*8)
		}
		return fmt.Sprintf("uint%d", t.Size*8)
	case String:
		return fmt.Sprintf("string[%d]", t.Size)
	case Pointer:
		return t.Elem.String() + " *"
	case Array:
		return fmt.Sprintf("%s[%d]", t.Elem, t.Len)
	case Tuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			if t.Names != nil {
				parts[i] = t.Names[i] + "=" + e.String()
			} else {
				parts[i] = e.String()
			}
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case Struct:
		return t.Name
	case Agg:
		return string(t.Agg) + "()"
	case Probe:
		if t.Name != "" {
			return t.Name // func
		}
		return "probe"
	case Special:
		return t.Name
	}
	return "?"
}
