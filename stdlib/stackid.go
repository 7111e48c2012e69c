package stdlib

import (
	"fmt"
	"strconv"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// A stack value (kstack, ustack) is not the stack itself but its ID: a
// 64-bit hash, computed by the program, of what bpf_get_stack wrote. The
// frames are stored once, under that ID, in a side map of the stack's
// layout (Emitter.StackID), and named in user space when the value is
// printed. A stack of 127 frames is 1 KiB; as a map key (@[kstack] =
// count()) the kernel would hash and compare all of it on every event,
// where the ID costs 8 bytes.
//
// Two different stacks with the same ID would print as the one stored
// first; with a 64-bit hash that takes billions of distinct stacks to be
// likely.

// StackLayout is how a stack is stored in its side map: a header whose
// first u64 is the number of bytes of frames the kernel wrote, then up to
// Frames return addresses (the kernel zeroes those it did not write).
type StackLayout struct {
	// Kind is the stack's type name: "kstack" or "ustack".
	Kind string
	// Header is the size of the header in bytes, a multiple of 8: the
	// byte count, and for user stacks the process ID (tgid).
	Header int
	// Frames is the frame limit.
	Frames int
}

// Size is the size in bytes of a stored stack.
func (s StackLayout) Size() int { return s.Header + 8*s.Frames }

// Name identifies the layout, and so its side map: "kstack127".
func (s StackLayout) Name() string { return s.Kind + strconv.Itoa(s.Frames) }

// stackLayoutOf returns the layout of the frames a stack value names, and
// false for types that are not stacks.
func stackLayoutOf(t *types.Type) (StackLayout, bool) {
	switch {
	case t.Kind != types.Special || t.Frames == 0:
		return StackLayout{}, false
	case t.Name == "kstack":
		return kstackLayout(t.Frames), true
	case t.Name == "ustack":
		return ustackLayout(t.Frames), true
	}
	return StackLayout{}, false
}

// stackType is the type of a stack value: an ID that prints as the
// frames of layout s, in mode.
func stackType(s StackLayout, mode string) *types.Type {
	return &types.Type{Kind: types.Special, Name: s.Kind, Param: mode, Size: 8, Frames: s.Frames}
}

// StackReader returns the stored stack of layout s with the given ID, as
// the side map holds it, and false when there is none: the program could
// not store it because the side map was full.
type StackReader func(s StackLayout, id uint64) ([]byte, bool)

// stackStore is the library's access to the stacks a run stored: the
// runtime's reader, and the stacks already read, so that each is read
// from the kernel once however often it prints.
type stackStore struct {
	read  StackReader
	cache map[stackKey][]byte
}

type stackKey struct {
	layout string
	id     uint64
}

// SetStackReader tells the library where the stacks of a run are (the
// runtime reads the side maps of the loaded script), and forgets the
// stacks of an earlier run.
func (l *Library) SetStackReader(read StackReader) {
	l.stacks = stackStore{read: read, cache: map[stackKey][]byte{}}
}

// stack returns the stored stack of layout s with the given ID.
func (st *stackStore) stack(s StackLayout, id uint64) ([]byte, bool) {
	k := stackKey{s.Name(), id}
	if b, ok := st.cache[k]; ok {
		return b, true
	}
	if st.read == nil {
		return nil, false
	}
	b, ok := st.read(s, id)
	if ok && len(b) >= s.Size() {
		st.cache[k] = b
		return b, true
	}
	return nil, false
}

// lostStack is how a stack prints, in mode, when its frames were not
// stored: one line that says so, with the ID, which tells lost stacks
// apart. The runtime also warns at the end of the run.
func lostStack(id uint64, mode string) format.Stack {
	return format.Stack{
		Frames: []string{fmt.Sprintf("[lost stack %#x: the stack map was full]", id)},
		Tab:    mode != stackModeBpftrace,
	}
}
